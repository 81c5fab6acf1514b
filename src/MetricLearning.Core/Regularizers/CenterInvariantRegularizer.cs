using System;
using MetricLearning.Reducers;
using static TorchSharp.torch;

namespace MetricLearning.Regularizers;

/// <summary>
/// Keeps class vectors at similar lengths (Zhu et al., "Center-invariant loss", ECCV 2018): with
/// <c>s_c = ‖w_c‖²</c> and <c>s̄</c> their mean, <c>R = mean_c (s_c − s̄)² / 4</c>; pytorch-metric-learning's
/// <c>CenterInvariantRegularizer</c>. Meant for a classification loss's class vectors
/// (<see cref="Losses.BatchLoss.WeightRegularizer"/>), so that rare classes do not get shorter centres.
/// </summary>
/// <remarks>Default <see cref="MeanReducer"/>: pytorch-metric-learning's. Stateless and thread-safe.</remarks>
public sealed class CenterInvariantRegularizer : IRegularizer
{
    /// <summary>Creates the regularizer.</summary>
    /// <param name="reducer">How the rows' values become one; null for <see cref="MeanReducer"/>.</param>
    public CenterInvariantRegularizer(IReducer? reducer = null)
    {
        Reducer = reducer ?? new MeanReducer();
    }

    /// <summary>How the rows' values become one.</summary>
    public IReducer Reducer { get; }

    /// <inheritdoc />
    public Tensor Compute(Tensor rows)
    {
        RegularizerRows.Check(rows, "centre-invariant");
        using var scope = NewDisposeScope();
        var squaredNorms = linalg.vector_norm(rows, 2, new long[] { 1 }).square();
        var deviations = squaredNorms - squaredNorms.mean();
        return RegularizerRows.Reduce(Reducer, "squared-norm deviations", deviations.square() / 4).MoveToOuterDisposeScope();
    }
}
