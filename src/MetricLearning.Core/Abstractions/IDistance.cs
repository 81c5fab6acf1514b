using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>
/// Compares embeddings: row by row for pairs, or every row against every row for retrieval and mining. Despite the
/// name, an implementation may be a similarity; <see cref="IsSimilarity"/> says which way is closer.
/// </summary>
/// <remarks>
/// Implementations are differentiable (gradients flow to both arguments), keep the arguments' device and dtype,
/// and validate shapes before any native call. Returned tensors belong to the caller's dispose scope.
/// Implementations hold no mutable state and are thread-safe.
/// </remarks>
public interface IDistance
{
    /// <summary>
    /// True for a similarity, where a larger value means "closer" (cosine similarity, dot product); false, the
    /// default, for a distance, where a smaller value does. Losses, miners and evaluators read this instead of
    /// assuming a direction.
    /// </summary>
    bool IsSimilarity => false;

    /// <summary>Distance between row i of <paramref name="first"/> and row i of <paramref name="second"/>.</summary>
    /// <param name="first">Embeddings, shape <c>[N, D]</c>, floating point.</param>
    /// <param name="second">Embeddings, shape <c>[N, D]</c>, same dtype and device as <paramref name="first"/>.</param>
    /// <returns>Shape <c>[N]</c>: one distance per row pair.</returns>
    Tensor Compute(Tensor first, Tensor second);

    /// <summary>Distance between every row of <paramref name="queries"/> and every row of <paramref name="references"/>.</summary>
    /// <param name="queries">Embeddings, shape <c>[N, D]</c>, floating point.</param>
    /// <param name="references">Embeddings, shape <c>[M, D]</c>, same dtype and device as <paramref name="queries"/>.</param>
    /// <returns>Shape <c>[N, M]</c>: element (i, j) is the distance between query i and reference j.</returns>
    Tensor ComputeMatrix(Tensor queries, Tensor references);

    /// <summary>
    /// <see cref="ComputeMatrix"/> written into a tensor the caller owns and reuses, for searches that compare a query
    /// chunk with one block of references after another: a fresh matrix per block costs new memory each time, which
    /// on the CPU can take as long as the matrix product itself. Returns false, without touching
    /// <paramref name="output"/>, when this distance cannot; the default always does, and callers then use
    /// <see cref="ComputeMatrix"/>.
    /// </summary>
    /// <remarks>
    /// For search, not training: no gradient flows into <paramref name="output"/>. The values equal
    /// <see cref="ComputeMatrix"/>'s up to floating-point rounding.
    /// </remarks>
    /// <param name="queries">Embeddings, shape <c>[N, D]</c>, floating point.</param>
    /// <param name="references">Embeddings, shape <c>[M, D]</c>, same dtype and device as <paramref name="queries"/>.</param>
    /// <param name="output">Shape <c>[N, M]</c>, contiguous, the dtype and device of <paramref name="queries"/>; overwritten.</param>
    /// <returns>True when <paramref name="output"/> now holds the matrix; false when the caller must call <see cref="ComputeMatrix"/>.</returns>
    /// <exception cref="System.ArgumentException">An implementation that writes refuses embeddings or an output of the wrong shape, dtype, device or layout, naming it.</exception>
    bool TryComputeMatrix(Tensor queries, Tensor references, Tensor output) => false;
}
