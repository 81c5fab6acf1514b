using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>
/// A loss over a whole batch of embeddings and their class labels: every pair (or triplet) in the batch that the
/// loss uses is formed inside it, or picked by a miner (<see cref="IMiner"/>), so the batch sampler and the miner
/// decide what can be learnt (for example <see cref="Data.MPerClassSampler"/>).
/// </summary>
/// <remarks>
/// Implementations validate shapes before any native call and return a 0-d tensor in the caller's dispose scope. Each
/// states in its docs whether it works on distances or similarities, and whether it is thread-safe: most hold no
/// mutable state and are; a loss with weights of its own (class proxies, class centres) changes as it trains and is
/// not thread-safe while it does.
/// </remarks>
public interface IBatchLoss
{
    /// <summary>Computes the loss of one batch over every valid pair or triplet in it.</summary>
    /// <param name="embeddings">Shape <c>[N, D]</c>, floating point, N ≥ 2.</param>
    /// <param name="labels">Shape <c>[N]</c>, integer class labels on the same device.</param>
    /// <returns>A 0-d tensor, differentiable with respect to <paramref name="embeddings"/>.</returns>
    Tensor Compute(Tensor embeddings, Tensor labels) => Compute(embeddings, labels, null);

    /// <summary>Computes the loss of one batch over the pairs or triplets a miner picked.</summary>
    /// <param name="embeddings">Shape <c>[N, D]</c>, floating point, N ≥ 2.</param>
    /// <param name="labels">Shape <c>[N]</c>, integer class labels on the same device.</param>
    /// <param name="mined">Pairs or triplets mined from this batch; null for every valid pair or triplet.</param>
    /// <returns>A 0-d tensor, differentiable with respect to <paramref name="embeddings"/>; 0 when nothing was mined.</returns>
    Tensor Compute(Tensor embeddings, Tensor labels, MinedIndices? mined);
}
