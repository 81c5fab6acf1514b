using System;
using static TorchSharp.torch;

namespace MetricLearning.Reducers;

/// <summary>The sum of the values that count: pytorch-metric-learning's <c>SumReducer</c>.</summary>
/// <remarks>Stateless and thread-safe.</remarks>
public sealed class SumReducer : IReducer
{
    /// <inheritdoc />
    public Tensor Reduce(LossTerms terms, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(terms);
        if (terms.Kind == LossTermKind.AlreadyReduced)
            return terms.Values.alias();
        using var scope = NewDisposeScope();
        return terms.ValidValues().sum().MoveToOuterDisposeScope();
    }
}
