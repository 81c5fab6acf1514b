using System;
using MetricLearning.Distances;
using static TorchSharp.torch;

namespace MetricLearning.Indexing;

/// <summary>Exact k-nearest-neighbour search over <see cref="DistanceMatrixBlocks"/>: a top-k per block of queries.</summary>
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
        distance.ForEachBlock(queries, references, (start, block) =>
        {
            long length = block.shape[0];
            prepare?.Invoke(start, length, block);
            var (values, indexes) = block.topk(k, dim: 1, largest: distance.IsSimilarity);
            consume(start, length, values, indexes);
        }, chunkBytes);
    }
}
