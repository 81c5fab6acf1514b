using System;
using static TorchSharp.torch;

namespace MetricLearning.Reducers;

/// <summary>
/// The mean of the values that count (0 when none does): pytorch-metric-learning's <c>MeanReducer</c>, and the
/// default of most losses here.
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
public sealed class MeanReducer : IReducer
{
    /// <inheritdoc />
    public Tensor Reduce(LossTerms terms, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(terms);
        if (terms.Kind == LossTermKind.AlreadyReduced)
            return terms.Values.alias();
        if (terms.Valid is null)
            return terms.Values.numel() == 0 ? terms.Values.sum() : terms.Values.mean();
        using var scope = NewDisposeScope();
        var weights = terms.ValidWeights();
        return (terms.ValidValues().sum() / weights.sum().clamp_min(1)).MoveToOuterDisposeScope();
    }
}
