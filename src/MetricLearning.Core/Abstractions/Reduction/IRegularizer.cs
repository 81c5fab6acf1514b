using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>
/// A penalty on a set of vectors, added to a loss: on the batch's embeddings
/// (<see cref="Losses.BatchLoss.EmbeddingRegularizer"/>) or on a loss's learnt class vectors
/// (<see cref="Losses.BatchLoss.WeightRegularizer"/>), as pytorch-metric-learning attaches its regularizers. See the
/// <c>MetricLearning.Regularizers</c> namespace.
/// </summary>
/// <remarks>Implementations return a 0-d tensor in the caller's dispose scope and are thread-safe.</remarks>
public interface IRegularizer
{
    /// <summary>The penalty on <paramref name="rows"/>.</summary>
    /// <param name="rows">Shape <c>[N, D]</c>, floating point: embeddings or class vectors, one per row.</param>
    /// <returns>A 0-d tensor, differentiable with respect to <paramref name="rows"/>.</returns>
    Tensor Compute(Tensor rows);
}
