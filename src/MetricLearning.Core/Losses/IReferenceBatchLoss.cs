using System.Collections.Generic;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// A batch loss that can compare a batch of queries with separate references (pytorch-metric-learning's
/// <c>ref_emb</c>), as <see cref="CrossBatchMemory"/> needs: each query is an anchor, its pairs are with references.
/// Internal: the losses that implement it are the ones <see cref="CrossBatchMemory"/> accepts.
/// </summary>
internal interface IReferenceBatchLoss
{
    /// <summary>
    /// The sub-losses of the pairs (query i, reference j) where <paramref name="positive"/> (same class) or
    /// <paramref name="negative"/> (different class) is true, anchored at the query rows; the loss's reducer reduces
    /// them with the queries' labels. The inputs are checked by the caller.
    /// </summary>
    /// <param name="queries"><c>[Nq, D]</c>, the rows the gradient flows to.</param>
    /// <param name="references"><c>[Nr, D]</c>, same dtype and device.</param>
    /// <param name="positive">Boolean <c>[Nq, Nr]</c>: the same-class pairs to use.</param>
    /// <param name="negative">Boolean <c>[Nq, Nr]</c>: the different-class pairs to use.</param>
    /// <returns>The sub-losses, in the caller's dispose scope.</returns>
    IReadOnlyList<LossTerms> ComputeTerms(Tensor queries, Tensor references, Tensor positive, Tensor negative);
}
