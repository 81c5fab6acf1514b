using System;
using MetricLearning.Reducers;
using static TorchSharp.torch;

namespace MetricLearning.Regularizers;

/// <summary>
/// The Lp norm of each row, raised to a power, reduced over the rows (the mean by default):
/// <c>R = mean_i ‖x_i‖_p^power</c>; pytorch-metric-learning's <c>LpRegularizer</c>. On embeddings it keeps them from
/// growing without bound (for losses on unnormalised distances); on class vectors it keeps them small.
/// </summary>
/// <remarks>Defaults p = 2, power = 1, <see cref="MeanReducer"/>: pytorch-metric-learning's. Stateless and thread-safe.</remarks>
public sealed class LpRegularizer : IRegularizer
{
    /// <summary>Creates the regularizer.</summary>
    /// <param name="p">The norm's order; at least 1 and finite.</param>
    /// <param name="power">The power the norm is raised to; positive and finite.</param>
    /// <param name="reducer">How the rows' values become one; null for <see cref="MeanReducer"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public LpRegularizer(double p = 2, double power = 1, IReducer? reducer = null)
    {
        if (!double.IsFinite(p) || p < 1)
            throw new ArgumentOutOfRangeException(nameof(p), p, "The norm's order p must be finite and at least 1.");
        if (!double.IsFinite(power) || power <= 0)
            throw new ArgumentOutOfRangeException(nameof(power), power, "The power must be positive and finite.");
        P = p;
        Power = power;
        Reducer = reducer ?? new MeanReducer();
    }

    /// <summary>The norm's order.</summary>
    public double P { get; }

    /// <summary>The power the norm is raised to.</summary>
    public double Power { get; }

    /// <summary>How the rows' values become one.</summary>
    public IReducer Reducer { get; }

    /// <inheritdoc />
    public Tensor Compute(Tensor rows)
    {
        RegularizerRows.Check(rows, "Lp");
        using var scope = NewDisposeScope();
        var norms = linalg.vector_norm(rows, P, new long[] { 1 });
        var perRow = Power == 1 ? norms : norms.pow(Power);
        return RegularizerRows.Reduce(Reducer, "row norms", perRow).MoveToOuterDisposeScope();
    }
}
