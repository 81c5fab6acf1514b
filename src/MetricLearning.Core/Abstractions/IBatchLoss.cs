using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>
/// A loss over a whole batch of embeddings and their class labels: every pair (or triplet) in the batch that the
/// loss uses is formed inside it, so the batch sampler decides what can be learnt (for example
/// <see cref="Sampling.MPerClassSampler"/>).
/// </summary>
/// <remarks>
/// Implementations validate shapes before any native call, return a 0-d tensor in the caller's dispose scope, hold
/// no mutable state and are thread-safe. Each states in its docs whether it works on distances or similarities.
/// </remarks>
public interface IBatchLoss
{
    /// <summary>Computes the loss of one batch.</summary>
    /// <param name="embeddings">Shape <c>[N, D]</c>, floating point, N ≥ 2.</param>
    /// <param name="labels">Shape <c>[N]</c>, integer class labels on the same device.</param>
    /// <returns>A 0-d tensor, differentiable with respect to <paramref name="embeddings"/>.</returns>
    Tensor Compute(Tensor embeddings, Tensor labels);
}
