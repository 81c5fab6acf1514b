using System;
using System.Collections.Generic;
using System.Linq;
using MetricLearning.Data;

namespace MetricLearning.Data;

/// <summary>
/// The pair construction of Hadsell et al.'s Siamese experiment (Keras' <c>mnist_siamese.py</c>): balanced,
/// alternating same-class and different-class pairs.
/// </summary>
/// <remarks>
/// <para>
/// Samples are grouped by class in dataset order (<c>idx[c]</c>), classes in ascending label order, and
/// <c>n = min_c |idx[c]| − 1</c>. For each class <c>c</c> and each <c>i</c> in <c>0..n−1</c> it emits, in this
/// order, the same-class pair <c>(idx[c][i], idx[c][i+1])</c>, then the different-class pair
/// <c>(idx[c][i], idx[c'][i])</c> where <c>c'</c> is the class <c>k</c> places further round the ring of
/// classes and <c>k</c> is drawn uniformly from <c>1..C−1</c>. So there are <c>2·C·n</c> pairs, exactly half of
/// them same-class: 108,400 on MNIST's training split and 17,820 on its test split.
/// </para>
/// <para>
/// Draws come from <see cref="Random"/> seeded with <see cref="Seed"/> afresh on each call to
/// <see cref="Sample"/>, so the same labels and seed always give the same pairs. Thread-safe.
/// </para>
/// </remarks>
public sealed class AlternatingPairSampler : IPairSampler
{
    /// <summary>The seed of the reference experiment's runs.</summary>
    public const int DefaultSeed = 1337;

    /// <summary>Creates the sampler.</summary>
    /// <param name="seed">Seed of the random choice of the different class.</param>
    public AlternatingPairSampler(int seed = DefaultSeed) => Seed = seed;

    /// <summary>Seed of the random choice of the different class.</summary>
    public int Seed { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">There are fewer than two classes, or a class has fewer than two samples.</exception>
    public PairSet Sample(IReadOnlyList<int> labels)
    {
        var byClass = ClassMembers.Group(labels, nameof(labels));
        var classes = byClass.Values.ToArray();
        int n = classes.Min(members => members.Count) - 1;
        if (n < 1)
        {
            int sparse = byClass.First(entry => entry.Value.Count < 2).Key;
            throw new ArgumentException($"Every class needs at least two samples to form a same-class pair; class {sparse} has one.", nameof(labels));
        }

        int pairCount = 2 * classes.Length * n;
        var first = new int[pairCount];
        var second = new int[pairCount];
        var isSame = new bool[pairCount];
        var random = new Random(Seed);
        int p = 0;
        for (int c = 0; c < classes.Length; c++)
        {
            for (int i = 0; i < n; i++)
            {
                first[p] = classes[c][i];
                second[p] = classes[c][i + 1];
                isSame[p++] = true;

                int other = (c + random.Next(1, classes.Length)) % classes.Length;
                first[p] = classes[c][i];
                second[p] = classes[other][i];
                isSame[p++] = false;
            }
        }

        return new PairSet(first, second, isSame);
    }
}
