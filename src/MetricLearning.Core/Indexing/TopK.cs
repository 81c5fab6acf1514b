using System;
using System.Runtime.Intrinsics;

namespace MetricLearning.Indexing;

/// <summary>
/// The k best values of each row seen so far, with their positions, as tiles of rows arrive: a bounded heap per row
/// whose root is the worst value kept, and a vector compare against it that skips, eight values at a time, everything
/// that cannot enter. Larger is better for a similarity, smaller for a distance; of equal values the first seen stays.
/// NaN ranks below every number: it is kept only when a row has fewer than k numbers, and is then reported as the
/// worst value (−∞ for a similarity, +∞ for a distance).
/// </summary>
internal sealed class TopK
{
    private readonly int _rows;
    private readonly int _k;
    private readonly bool _largest;

    /// <summary>Per row, k slots: the goodness of each kept value (the value for a similarity, its negation for a distance), a min-heap.</summary>
    private readonly float[] _goodness;
    private readonly long[] _positions;
    private readonly int[] _sizes;

    internal TopK(int rows, int k, bool largest)
    {
        _rows = rows;
        _k = k;
        _largest = largest;
        _goodness = new float[rows * k];
        _positions = new long[rows * k];
        _sizes = new int[rows];
    }

    /// <summary>Takes in a tile: <c>rows</c> rows of <paramref name="width"/> values, row-major, whose columns are positions <paramref name="first"/> onward.</summary>
    internal void Add(ReadOnlySpan<float> tile, int width, long first)
    {
        for (int row = 0; row < _rows; row++)
        {
            var values = tile.Slice(row * width, width);
            var goodness = _goodness.AsSpan(row * _k, _k);
            var positions = _positions.AsSpan(row * _k, _k);
            ref int size = ref _sizes[row];
            int j = 0;
            while (size < _k && j < width)
            {
                Push(goodness, positions, ref size, Goodness(values[j]), first + j);
                j++;
            }

            float worst = goodness[0];
            if (Vector256.IsHardwareAccelerated)
            {
                // A value can enter only if it beats the worst kept: for a similarity, value > worst; for a distance,
                // -value > worst, that is value < -worst.
                for (; j + Vector256<float>.Count <= width; j += Vector256<float>.Count)
                {
                    var block = Vector256.Create(values.Slice(j, Vector256<float>.Count));
                    var enters = _largest
                        ? Vector256.GreaterThan(block, Vector256.Create(worst))
                        : Vector256.LessThan(block, Vector256.Create(-worst));
                    uint mask = enters.ExtractMostSignificantBits();
                    while (mask != 0)
                    {
                        int lane = System.Numerics.BitOperations.TrailingZeroCount(mask);
                        mask &= mask - 1;
                        float candidate = Goodness(values[j + lane]);
                        if (candidate > goodness[0])
                            Replace(goodness, positions, candidate, first + j + lane);
                    }

                    worst = goodness[0];
                }
            }

            for (; j < width; j++)
            {
                float candidate = Goodness(values[j]);
                if (candidate > goodness[0])
                    Replace(goodness, positions, candidate, first + j);
            }
        }
    }

    /// <summary>Each row's kept values (as given, not negated) and positions, best first; of equal values the smaller position first.</summary>
    internal (float[] Values, long[] Positions) Sorted()
    {
        var values = new float[_rows * _k];
        var positions = new long[_rows * _k];
        var order = new int[_k];
        for (int row = 0; row < _rows; row++)
        {
            int size = _sizes[row], offset = row * _k;
            for (int i = 0; i < size; i++)
                order[i] = i;
            var goodness = _goodness.AsSpan(offset, size);
            var kept = _positions.AsSpan(offset, size);
            var rowOrder = order.AsSpan(0, size);
            for (int a = 1; a < size; a++)
            {
                // Insertion sort: k is small.
                int current = rowOrder[a], b = a - 1;
                while (b >= 0 && Better(goodness[current], kept[current], goodness[rowOrder[b]], kept[rowOrder[b]]))
                {
                    rowOrder[b + 1] = rowOrder[b];
                    b--;
                }

                rowOrder[b + 1] = current;
            }

            for (int i = 0; i < size; i++)
            {
                values[offset + i] = _largest ? goodness[rowOrder[i]] : -goodness[rowOrder[i]];
                positions[offset + i] = kept[rowOrder[i]];
            }
        }

        return (values, positions);
    }

    private static bool Better(float goodness, long position, float otherGoodness, long otherPosition) =>
        goodness > otherGoodness || (goodness == otherGoodness && position < otherPosition);

    /// <summary>How good a value is, larger better; NaN is the worst of all, so that it never holds a place a number could take.</summary>
    private float Goodness(float value) => float.IsNaN(value) ? float.NegativeInfinity : _largest ? value : -value;

    /// <summary>Adds to a heap that is not full (min-heap on goodness: the root is the worst kept).</summary>
    private static void Push(Span<float> goodness, Span<long> positions, ref int size, float value, long position)
    {
        int i = size++;
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (goodness[parent] <= value)
                break;
            goodness[i] = goodness[parent];
            positions[i] = positions[parent];
            i = parent;
        }

        goodness[i] = value;
        positions[i] = position;
    }

    /// <summary>Replaces the root of a full heap with a better value and sifts it down.</summary>
    private static void Replace(Span<float> goodness, Span<long> positions, float value, long position)
    {
        int size = goodness.Length, i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= size)
                break;
            if (child + 1 < size && goodness[child + 1] < goodness[child])
                child++;
            if (goodness[child] >= value)
                break;
            goodness[i] = goodness[child];
            positions[i] = positions[child];
            i = child;
        }

        goodness[i] = value;
        positions[i] = position;
    }
}
