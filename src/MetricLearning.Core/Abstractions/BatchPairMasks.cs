using System;
using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>
/// Which ordered pairs (i, j) of a batch are same-class (i ≠ j) and which are different-class, from the labels or
/// from what a miner picked. Validates the batch first; the masks belong to the caller's dispose scope.
/// </summary>
internal static class BatchPairMasks
{
    internal static (Tensor Positive, Tensor Negative) Create(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        Validate(embeddings, labels, mined);
        return mined is null ? FromLabels(labels) : mined.PairMasks();
    }

    /// <summary>Checks a batch and its mined indices, naming what is wrong.</summary>
    internal static void Validate(Tensor embeddings, Tensor labels, MinedIndices? mined)
    {
        TensorChecks.Rank(embeddings, 2, nameof(embeddings));
        TensorChecks.Rank(labels, 1, nameof(labels));
        TensorChecks.FloatingPoint(embeddings, nameof(embeddings));
        TensorChecks.SameDevice(embeddings, nameof(embeddings), labels, nameof(labels));
        if (labels.is_floating_point() || labels.dtype == ScalarType.Bool)
            throw new ArgumentException($"'labels' must hold integer class labels; its dtype is {labels.dtype}.", nameof(labels));
        if (labels.shape[0] != embeddings.shape[0])
            throw new ArgumentException(
                $"There are {labels.shape[0]} labels for {embeddings.shape[0]} embeddings ({TensorChecks.Shape(embeddings)}).", nameof(labels));
        if (embeddings.shape[0] < 2)
            throw new ArgumentException($"A batch loss needs at least two embeddings; got {embeddings.shape[0]}.", nameof(embeddings));
        mined?.CheckBatch(embeddings);
    }

    /// <summary>The row numbers 0 to N − 1 as an int64 <c>[N, 1]</c> column: the anchors of an <c>[N, N]</c> matrix of pair values.</summary>
    internal static Tensor Rows(long count, Device device) => arange(count, dtype: ScalarType.Int64, device: device).unsqueeze(1);

    /// <summary>Every same-class pair (i ≠ j) and every different-class pair.</summary>
    internal static (Tensor Positive, Tensor Negative) FromLabels(Tensor labels)
    {
        using var rows = labels.unsqueeze(1);
        using var columns = labels.unsqueeze(0);
        using var same = rows.eq(columns);
        using var diagonal = eye(labels.shape[0], dtype: ScalarType.Bool, device: labels.device);
        using var notDiagonal = diagonal.logical_not();
        return (same.logical_and(notDiagonal), same.logical_not());
    }
}
