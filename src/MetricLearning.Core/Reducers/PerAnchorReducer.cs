using System;
using static TorchSharp.torch;

namespace MetricLearning.Reducers;

/// <summary>
/// Averages pair (or triplet) values per anchor first, then reduces the per-anchor values with an inner reducer (the
/// mean by default): pytorch-metric-learning's <c>PerAnchorReducer</c>. Every anchor then weighs the same, however many
/// pairs it has; an anchor with none counts as 0. Element and class values go to the inner reducer as they are.
/// </summary>
/// <remarks>
/// pytorch-metric-learning refuses triplets here; this reducer groups them by anchor like pairs. Stateless and
/// thread-safe when its inner reducer is.
/// </remarks>
public sealed class PerAnchorReducer : IReducer
{
    /// <summary>Creates the reducer.</summary>
    /// <param name="inner">How the per-anchor values become the loss; null for <see cref="MeanReducer"/>.</param>
    public PerAnchorReducer(IReducer? inner = null)
    {
        Inner = inner ?? new MeanReducer();
    }

    /// <summary>How the per-anchor values become the loss.</summary>
    public IReducer Inner { get; }

    /// <inheritdoc />
    public Tensor Reduce(LossTerms terms, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(terms);
        ArgumentNullException.ThrowIfNull(labels);
        if (terms.Kind is LossTermKind.AlreadyReduced or LossTermKind.Element or LossTermKind.Class)
            return Inner.Reduce(terms, labels);
        using var scope = NewDisposeScope();
        long batch = labels.shape[0];
        var values = terms.ValidValues().flatten();
        var counts = terms.ValidWeights().flatten();
        var anchors = terms.AnchorsOfValues().flatten();
        var sums = zeros(batch, dtype: values.dtype, device: values.device).index_add(0, anchors, values, 1);
        var perAnchorCount = zeros(batch, dtype: values.dtype, device: values.device).index_add(0, anchors, counts, 1);
        var perAnchor = sums / perAnchorCount.clamp_min(1);
        using var perAnchorTerms = new LossTerms(terms.Name, LossTermKind.Element, perAnchor);
        return Inner.Reduce(perAnchorTerms, labels).MoveToOuterDisposeScope();
    }
}
