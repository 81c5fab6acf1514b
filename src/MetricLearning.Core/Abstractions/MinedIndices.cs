using System;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>
/// What a miner (<see cref="IMiner"/>) picked from a batch of <see cref="BatchSize"/> embeddings: row indices of
/// pairs (<see cref="MinedPairs"/>) or triplets (<see cref="MinedTriplets"/>). Every batch loss accepts either kind:
/// a triplet (a, p, n) gives the same-class pair (a, p) and the different-class pair (a, n); pairs that share an
/// anchor give the triplets (a, p, n).
/// </summary>
/// <remarks>
/// The losses take the mined indices as given: a pair mined as "same class" counts as one even if the labels say
/// otherwise. The index tensors are owned by this object; dispose it (or its dispose scope) when the step is done.
/// </remarks>
public abstract class MinedIndices : IDisposable
{
    private static readonly Scalar True = true;

    // Only the two kinds in this assembly: the losses know how to read them.
    private protected MinedIndices(long batchSize)
    {
        if (batchSize < 2)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "A mined batch has at least two embeddings.");
        BatchSize = batchSize;
    }

    /// <summary>How many embeddings the batch that was mined has; the loss checks its batch has as many.</summary>
    public long BatchSize { get; }

    /// <summary>
    /// Boolean <c>[N, N]</c> masks of the ordered pairs to use: <c>Positive[i, j]</c> for a same-class pair with anchor
    /// i, <c>Negative[i, j]</c> for a different-class pair. In the caller's dispose scope.
    /// </summary>
    internal abstract (Tensor Positive, Tensor Negative) PairMasks();

    /// <summary>One of the index vectors, for its device.</summary>
    private protected abstract Tensor AnyIndices { get; }

    /// <summary>Throws unless the mined batch is as large as <paramref name="embeddings"/> and on its device.</summary>
    internal void CheckBatch(Tensor embeddings)
    {
        long batchSize = embeddings.shape[0];
        if (batchSize != BatchSize)
            throw new ArgumentException(
                $"The mined indices are for a batch of {BatchSize} embeddings, but the loss was given {batchSize}.", "mined");
        TensorChecks.SameDevice(embeddings, nameof(embeddings), AnyIndices, "mined");
    }

    /// <summary>A boolean <c>[N, N]</c> mask that is true at (rows[k], columns[k]).</summary>
    private protected Tensor Mask(Tensor rows, Tensor columns)
    {
        var mask = zeros(BatchSize, BatchSize, dtype: ScalarType.Bool, device: rows.device);
        if (rows.shape[0] > 0)
            mask.index_put_(True, rows, columns);
        return mask;
    }

    /// <summary>Checks one index vector: 1-d, int64, on the device of the first, and within the batch.</summary>
    private protected static void CheckIndices(Tensor indices, string name, Tensor first, long batchSize)
    {
        ArgumentNullException.ThrowIfNull(indices, name);
        TensorChecks.Rank(indices, 1, name);
        if (indices.dtype != ScalarType.Int64)
            throw new ArgumentException($"'{name}' must hold int64 row indices; its dtype is {indices.dtype}.", name);
        TensorChecks.SameDevice(indices, name, first, "the first index vector");
        if (indices.shape[0] != first.shape[0])
            throw new ArgumentException(
                $"'{name}' has {indices.shape[0]} indices but the first index vector has {first.shape[0]}; mined index vectors pair up one to one.", name);
        if (indices.shape[0] == 0)
            return;
        var (min, max) = TensorChecks.Range(indices);
        if (min < 0 || max >= batchSize)
            throw new ArgumentOutOfRangeException(name,
                $"'{name}' holds row {(min < 0 ? min : max)}, outside a batch of {batchSize} embeddings (rows 0 to {batchSize - 1}).");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the index tensors.</summary>
    /// <param name="disposing">True from <see cref="Dispose()"/>.</param>
    protected abstract void Dispose(bool disposing);
}
