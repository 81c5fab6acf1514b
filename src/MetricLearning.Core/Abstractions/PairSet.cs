using System;
using System.Collections.Generic;

namespace MetricLearning;

/// <summary>
/// Pairs of samples as indices into a labelled set, each with a same-class flag. Immutable.
/// </summary>
/// <remarks>Pair i is (<see cref="First"/>[i], <see cref="Second"/>[i]); <see cref="IsSame"/>[i] is true when both have the same class.</remarks>
public sealed class PairSet
{
    private readonly int[] _first;
    private readonly int[] _second;
    private readonly bool[] _isSame;

    /// <summary>Creates a pair set from three parallel arrays (copied).</summary>
    /// <param name="first">Index of the first sample of each pair; non-negative.</param>
    /// <param name="second">Index of the second sample of each pair; non-negative.</param>
    /// <param name="isSame">True where the two samples have the same class.</param>
    /// <exception cref="ArgumentException">The arrays differ in length or hold a negative index.</exception>
    public PairSet(IReadOnlyList<int> first, IReadOnlyList<int> second, IReadOnlyList<bool> isSame)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentNullException.ThrowIfNull(isSame);
        if (first.Count != second.Count || first.Count != isSame.Count)
            throw new ArgumentException(
                $"The pair arrays must have one length; first has {first.Count}, second {second.Count}, isSame {isSame.Count}.",
                nameof(second));

        _first = new int[first.Count];
        _second = new int[first.Count];
        _isSame = new bool[first.Count];
        for (int i = 0; i < _first.Length; i++)
        {
            if (first[i] < 0 || second[i] < 0)
                throw new ArgumentException($"Pair {i} holds a negative index ({first[i]}, {second[i]}).", nameof(first));
            _first[i] = first[i];
            _second[i] = second[i];
            _isSame[i] = isSame[i];
        }
    }

    /// <summary>Number of pairs.</summary>
    public int Count => _first.Length;

    /// <summary>Index of the first sample of each pair.</summary>
    public IReadOnlyList<int> First => _first;

    /// <summary>Index of the second sample of each pair.</summary>
    public IReadOnlyList<int> Second => _second;

    /// <summary>True where both samples of the pair have the same class (label 1 in losses).</summary>
    public IReadOnlyList<bool> IsSame => _isSame;

    /// <summary>Number of same-class pairs.</summary>
    public int SameCount
    {
        get
        {
            int count = 0;
            foreach (bool same in _isSame)
                count += same ? 1 : 0;
            return count;
        }
    }

    /// <summary>Largest index any pair refers to, or -1 for an empty set.</summary>
    public int MaxIndex
    {
        get
        {
            int max = -1;
            for (int i = 0; i < _first.Length; i++)
                max = Math.Max(max, Math.Max(_first[i], _second[i]));
            return max;
        }
    }
}
