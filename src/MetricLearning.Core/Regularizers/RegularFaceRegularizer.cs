using System;
using MetricLearning.Reducers;
using static TorchSharp.torch;

namespace MetricLearning.Regularizers;

/// <summary>
/// Pushes each class vector away from its nearest other class vector (Zhao et al., "RegularFace", CVPR 2019):
/// <c>R = mean_c max_{j≠c} cos(w_c, w_j)</c>, the neighbour chosen without gradient; pytorch-metric-learning's
/// <c>RegularFaceRegularizer</c>. Meant for a classification loss's class vectors
/// (<see cref="Losses.BatchLoss.WeightRegularizer"/>).
/// </summary>
/// <remarks>Default <see cref="MeanReducer"/>: pytorch-metric-learning's. Needs at least two rows. Stateless and thread-safe.</remarks>
public sealed class RegularFaceRegularizer : IRegularizer
{
    /// <summary>Creates the regularizer.</summary>
    /// <param name="reducer">How the rows' values become one; null for <see cref="MeanReducer"/>.</param>
    public RegularFaceRegularizer(IReducer? reducer = null)
    {
        Reducer = reducer ?? new MeanReducer();
    }

    /// <summary>How the rows' values become one.</summary>
    public IReducer Reducer { get; }

    /// <inheritdoc />
    public Tensor Compute(Tensor rows)
    {
        RegularizerRows.Check(rows, "RegularFace", minimum: 2);
        using var scope = NewDisposeScope();
        var normalized = nn.functional.normalize(rows, p: 2, dim: 1);
        var cosine = normalized.matmul(normalized.t());
        Tensor nearest;
        using (no_grad())
        {
            var self = eye(rows.shape[0], dtype: ScalarType.Bool, device: rows.device);
            nearest = cosine.masked_fill(self, double.NegativeInfinity).argmax(1, keepdim: true);
        }

        return RegularizerRows.Reduce(Reducer, "nearest other class", cosine.gather(1, nearest).squeeze(1)).MoveToOuterDisposeScope();
    }
}
