using System;
using static TorchSharp.torch;

namespace MetricLearning.Reducers;

/// <summary>
/// The sum of the values that count divided by the divisor the loss names (<see cref="LossTerms.Divisor"/>; 0 when it
/// is 0): pytorch-metric-learning's <c>DivisorReducer</c>, the default of losses whose paper divides by something other
/// than the number of elements (Proxy-Anchor by the classes present, the margin loss by the active pairs).
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
public sealed class DivisorReducer : IReducer
{
    /// <inheritdoc />
    /// <exception cref="ArgumentException">The terms name no divisor.</exception>
    public Tensor Reduce(LossTerms terms, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(terms);
        if (terms.Kind == LossTermKind.AlreadyReduced)
            return terms.Values.alias();
        if (terms.Divisor is null)
            throw new ArgumentException($"The divisor reducer needs terms that name a divisor; the loss's '{terms.Name}' terms do not. Use another reducer with this loss.", nameof(terms));
        using var scope = NewDisposeScope();
        var divisor = terms.Divisor.to_type(terms.Values.dtype);
        var sum = terms.ValidValues().sum();
        // A zero divisor means nothing counted: 0, still connected to the values.
        return where(divisor.eq(0), sum * 0, sum / divisor.masked_fill(divisor.eq(0), 1)).MoveToOuterDisposeScope();
    }
}
