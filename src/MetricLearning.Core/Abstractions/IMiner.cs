using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>
/// Picks, from one batch of embeddings and class labels, the pairs or triplets a batch loss should learn from
/// (<see cref="IBatchLoss.Compute(Tensor, Tensor, MinedIndices?)"/>). A loss given no miner uses every valid pair or
/// triplet of the batch.
/// </summary>
/// <remarks>
/// Implementations choose without gradient (the choice is a selection, not part of the loss), validate shapes before
/// any native call, return indices in the caller's dispose scope, hold no mutable state and are thread-safe; except
/// miners that sample at random (<see cref="Mining.DistanceWeightedMiner"/>, <see cref="Mining.UniformHistogramMiner"/>),
/// which hold a generator of their own, reseeded per epoch through <see cref="IEpochAware"/>, and say so.
/// </remarks>
public interface IMiner
{
    /// <summary>Mines one batch.</summary>
    /// <param name="embeddings">Shape <c>[N, D]</c>, floating point, N ≥ 2.</param>
    /// <param name="labels">Shape <c>[N]</c>, integer class labels on the same device.</param>
    /// <returns>Row indices into the batch: <see cref="MinedPairs"/> or <see cref="MinedTriplets"/>.</returns>
    MinedIndices Mine(Tensor embeddings, Tensor labels);
}
