using System;
using MetricLearning.Reducers;
using static TorchSharp.torch;

namespace MetricLearning.Regularizers;

/// <summary>
/// The absolute sum of each row's components, reduced over the rows (the mean by default):
/// <c>R = mean_i |Σ_d x_id|</c>; pytorch-metric-learning's <c>ZeroMeanRegularizer</c>, after the zero-mean constraint of
/// Ranjan et al.'s L2-constrained softmax line of work: it pushes every vector's components to average zero, spreading
/// the vectors over the sphere rather than one orthant.
/// </summary>
/// <remarks>Default <see cref="MeanReducer"/>: pytorch-metric-learning's. Stateless and thread-safe.</remarks>
public sealed class ZeroMeanRegularizer : IRegularizer
{
    /// <summary>Creates the regularizer.</summary>
    /// <param name="reducer">How the rows' values become one; null for <see cref="MeanReducer"/>.</param>
    public ZeroMeanRegularizer(IReducer? reducer = null)
    {
        Reducer = reducer ?? new MeanReducer();
    }

    /// <summary>How the rows' values become one.</summary>
    public IReducer Reducer { get; }

    /// <inheritdoc />
    public Tensor Compute(Tensor rows)
    {
        RegularizerRows.Check(rows, "zero-mean");
        using var scope = NewDisposeScope();
        return RegularizerRows.Reduce(Reducer, "row sums", rows.sum(1).abs()).MoveToOuterDisposeScope();
    }
}
