using System;
using static TorchSharp.torch;

namespace MetricLearning.Evaluation;

/// <summary>Exact k-nearest-neighbour search in chunks of queries whose distance block stays under a memory budget.</summary>
internal static class NearestNeighbours
{
    /// <summary>
    /// For each chunk of queries: computes the block against all references, lets <paramref name="prepare"/> adjust
    /// it (for example to rule out self-matches), takes the k nearest (largest values for a similarity), and hands
    /// the chunk's start, values <c>[length, k]</c> and reference positions <c>[length, k]</c> to
    /// <paramref name="consume"/>. Each chunk runs in its own dispose scope, without gradient.
    /// </summary>
    internal static void Search(
        IDistance distance,
        Tensor queries,
        Tensor references,
        int k,
        long chunkBytes,
        Action<long, long, Tensor, Tensor> consume,
        Action<long, long, Tensor>? prepare = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, 1);
        long queryCount = queries.shape[0];
        long chunk = Math.Clamp(chunkBytes / (4L * references.shape[0]), 1, Math.Max(1, queryCount));
        using var noGrad = no_grad();
        for (long start = 0; start < queryCount; start += chunk)
        {
            using var scope = NewDisposeScope();
            long length = Math.Min(chunk, queryCount - start);
            var block = distance.ComputeMatrix(queries.narrow(0, start, length), references);
            prepare?.Invoke(start, length, block);
            var (values, indexes) = block.topk(k, dim: 1, largest: distance.IsSimilarity);
            consume(start, length, values, indexes);
        }
    }
}
