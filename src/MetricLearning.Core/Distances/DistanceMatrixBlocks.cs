using System;
using static TorchSharp.torch;

namespace MetricLearning.Distances;

/// <summary>
/// The full distance matrix between two large sets of embeddings, one block of query rows at a time, so that
/// comparing 10⁵ by 10⁵ embeddings (40 GB as one float32 matrix) runs in a bounded amount of memory.
/// </summary>
public static class DistanceMatrixBlocks
{
    /// <summary>The default memory budget of one block: 64 MB.</summary>
    public const long DefaultBlockBytes = 64L * 1024 * 1024;

    /// <summary>
    /// Computes <see cref="IDistance.ComputeMatrix"/> of <paramref name="queries"/> against all of
    /// <paramref name="references"/> in consecutive blocks of query rows, each at most <paramref name="blockBytes"/>
    /// (but at least one row), and hands each block to <paramref name="consume"/> with the index of its first query
    /// row. Reduce each block there (a top-k, a minimum, a count); the block is disposed when
    /// <paramref name="consume"/> returns.
    /// </summary>
    /// <param name="distance">The distance or similarity.</param>
    /// <param name="queries">Embeddings, shape <c>[N, D]</c>.</param>
    /// <param name="references">Embeddings, shape <c>[M, D]</c>, same device.</param>
    /// <param name="consume">Receives the first query row of the block and the block, shape <c>[rows, M]</c>.</param>
    /// <param name="blockBytes">Memory budget of one block; at least 1.</param>
    /// <remarks>
    /// Runs without gradient: it is for evaluation and search, not for training. For <see cref="CosineSimilarity"/>
    /// the references are normalised once for the whole call, which holds one more copy of them besides the blocks.
    /// </remarks>
    /// <exception cref="ArgumentException">The shapes, dtypes or devices do not fit, or the budget is below 1.</exception>
    public static void ForEachBlock(
        this IDistance distance,
        Tensor queries,
        Tensor references,
        Action<long, Tensor> consume,
        long blockBytes = DefaultBlockBytes)
    {
        ArgumentNullException.ThrowIfNull(distance);
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(consume);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockBytes, 1);
        TensorChecks.EmbeddingBatches(queries, nameof(queries), references, nameof(references), rowWise: false);

        long queryCount = queries.shape[0];
        long rowBytes = Math.Max(1, references.shape[0] * references.element_size());
        long rows = Math.Clamp(blockBytes / rowBytes, 1, Math.Max(1, queryCount));
        using var noGrad = no_grad();
        // Cosine similarity normalises the references on every call; over a million references and many blocks that
        // costs more than the products themselves, so they are normalised once here, by the very same operation.
        using var normalizedReferences = distance is CosineSimilarity ? EmbeddingNormalization.Normalize(references) : null;
        using var normalizedReferencesT = normalizedReferences?.t();
        for (long start = 0; start < queryCount; start += rows)
        {
            using var scope = NewDisposeScope();
            var chunk = queries.narrow(0, start, Math.Min(rows, queryCount - start));
            var block = normalizedReferencesT is null ? distance.ComputeMatrix(chunk, references) : EmbeddingNormalization.Normalize(chunk).matmul(normalizedReferencesT);
            consume(start, block);
        }
    }
}
