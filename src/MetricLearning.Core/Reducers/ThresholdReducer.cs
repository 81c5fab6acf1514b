using System;
using static TorchSharp.torch;

namespace MetricLearning.Reducers;

/// <summary>
/// The mean of the values that count and lie strictly between <see cref="Low"/> and <see cref="High"/> (0 when none
/// does): pytorch-metric-learning's <c>ThresholdReducer</c>. Values outside are dropped, not clipped, so a batch's
/// easy (or outlying) elements do not dilute (or dominate) the gradient.
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
public class ThresholdReducer : IReducer
{
    /// <summary>Creates the reducer; give at least one bound.</summary>
    /// <param name="low">Values must be above this; null for no lower bound.</param>
    /// <param name="high">Values must be below this; null for no upper bound.</param>
    /// <exception cref="ArgumentException">Neither bound is given, a bound is NaN, or low is not below high.</exception>
    public ThresholdReducer(double? low = null, double? high = null)
    {
        if (low is null && high is null)
            throw new ArgumentException("A threshold reducer needs a low or a high bound (or both).", nameof(low));
        if (low is double l && double.IsNaN(l))
            throw new ArgumentOutOfRangeException(nameof(low), low, "The low bound is NaN.");
        if (high is double h && double.IsNaN(h))
            throw new ArgumentOutOfRangeException(nameof(high), high, "The high bound is NaN.");
        if (low is double lo && high is double hi && lo >= hi)
            throw new ArgumentException($"The low bound ({lo}) must be below the high bound ({hi}).", nameof(high));
        Low = low;
        High = high;
    }

    /// <summary>Values must be above this; null for no lower bound.</summary>
    public double? Low { get; }

    /// <summary>Values must be below this; null for no upper bound.</summary>
    public double? High { get; }

    /// <inheritdoc />
    public Tensor Reduce(LossTerms terms, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(terms);
        if (terms.Kind == LossTermKind.AlreadyReduced)
            return terms.Values.alias();
        using var scope = NewDisposeScope();
        var values = terms.Values;
        var keep = terms.Valid is null ? ones_like(values, dtype: ScalarType.Bool) : terms.Valid.expand(values.shape);
        if (Low is double low)
            keep = keep.logical_and(values.gt(low));
        if (High is double high)
            keep = keep.logical_and(values.lt(high));
        var kept = values.masked_fill(keep.logical_not(), 0);
        return (kept.sum() / keep.to_type(values.dtype).sum().clamp_min(1)).MoveToOuterDisposeScope();
    }
}
