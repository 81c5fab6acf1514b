using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>
/// Turns the per-element values of a loss (<see cref="LossTerms"/>: per pair, per triplet, per anchor or per class)
/// into the one number that is minimised, as pytorch-metric-learning's reducers do: the mean, the mean of the values
/// above zero, the sum, the mean within thresholds, the mean per anchor, a class-weighted mean (see the
/// <c>MetricLearning.Reducers</c> namespace). A loss built on <see cref="Losses.BatchLoss"/> takes one and applies it
/// to each of its sub-losses, then adds them.
/// </summary>
/// <remarks>
/// Implementations work without reading values back from the device, return a 0-d tensor in the caller's dispose
/// scope (0, still connected to the values, when no value counts), hold no mutable state and are thread-safe.
/// </remarks>
public interface IReducer
{
    /// <summary>Reduces one sub-loss.</summary>
    /// <param name="terms">The sub-loss's values, what they belong to, and which count.</param>
    /// <param name="labels">The batch's labels, <c>[N]</c> (for reducers that weight or group by class or anchor).</param>
    /// <returns>A 0-d tensor, differentiable with respect to <see cref="LossTerms.Values"/>.</returns>
    Tensor Reduce(LossTerms terms, Tensor labels);
}
