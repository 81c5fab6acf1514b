using System;
using System.Collections.Generic;

namespace MetricLearning.Mnist.Idx;

/// <summary>The contents of an unsigned-byte IDX file: its dimensions and its data in row-major order.</summary>
internal sealed class IdxArray
{
    internal IdxArray(int[] dimensions, byte[] data)
    {
        Dimensions = dimensions;
        Data = data;
    }

    /// <summary>Size of each dimension, outermost first (for MNIST images: count, rows, columns).</summary>
    public IReadOnlyList<int> Dimensions { get; }

    /// <summary>The values, row-major; length is the product of <see cref="Dimensions"/>.</summary>
    public byte[] Data { get; }

    /// <summary>Number of dimensions.</summary>
    public int Rank => Dimensions.Count;
}
