using System;
using System.Collections.Generic;
using MetricLearning.Reducers;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// FastAP (Cakir, He, Xia, Kulis and Sclaroff, "Deep Metric Learning to Rank", CVPR 2019), pytorch-metric-learning's
/// <c>FastAPLoss</c>: each anchor ranks the rest of the batch by squared Euclidean distance of L2-normalised
/// embeddings (in [0, 4]), soft-binned into B bins with triangular kernels of width Δ = 4/B centred on the B + 1 edges
/// z_0 = 0, …, z_B = 4; with h⁺_j and h_j the soft counts of its positives and of all others at edge j, and H⁺_j, H_j
/// their cumulative sums, its approximate average precision is <c>FastAP = (1/N⁺) Σ_j h⁺_j·H⁺_j / H_j</c> (terms where
/// <c>h⁺_j·H⁺_j</c> or H_j is 0 left out), and its loss <c>1 − FastAP</c>, reduced over the anchors that have a
/// positive (the mean by default).
/// </summary>
/// <remarks>
/// <para>
/// Default B = 10 and <see cref="MeanReducer"/>, pytorch-metric-learning's, on its default and only distance, the squared
/// Euclidean distance of L2-normalised embeddings (fixed here). Mined indices do not choose pairs: as in
/// pytorch-metric-learning they weight each anchor's loss by how often its row appears among the mined indices (all of
/// them), divided by the most often any row does (1 for every row when nothing was mined).
/// </para>
/// <para>
/// One sub-loss, "anchors" (<see cref="LossTermKind.Element"/>): each anchor's <c>1 − FastAP</c>, counted for anchors with a
/// positive. Stateless and thread-safe.
/// </para>
/// </remarks>
public sealed class FastApLoss : BatchLoss
{
    // pytorch-metric-learning's LpDistance(power=2): the Euclidean distance, squared (so that it rounds as PML's does).
    private static readonly Distances.LpDistance Distance = new(2, normalize: true);

    /// <summary>Creates the loss.</summary>
    /// <param name="bins">The number of histogram bins B; at least 1.</param>
    /// <param name="reducer">How the anchors' values become the loss; null for <see cref="MeanReducer"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bins"/> is below 1.</exception>
    public FastApLoss(int bins = 10, IReducer? reducer = null)
        : base(reducer ?? new MeanReducer())
    {
        if (bins < 1)
            throw new ArgumentOutOfRangeException(nameof(bins), bins, "FastAP needs at least one histogram bin.");
        Bins = bins;
    }

    /// <summary>The number of histogram bins B.</summary>
    public int Bins { get; }

    /// <inheritdoc />
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        BatchPairMasks.Validate(embeddings, labels, mined);
        using var scope = NewDisposeScope();
        var dtype = embeddings.dtype;
        var (positive, negative) = BatchPairMasks.FromLabels(labels);
        var isPositive = positive.to_type(dtype);
        var isNegative = negative.to_type(dtype);
        var positives = isPositive.sum(1);
        var distances = Distance.ComputeMatrix(embeddings, embeddings).square();

        const double histogramMax = 4;
        double delta = histogramMax / Bins;
        var edges = linspace(0, histogramMax, Bins + 1, dtype: dtype, device: embeddings.device).view(-1, 1, 1);
        // [B + 1, N, N]: how much of each pair's distance falls on each edge.
        var pulse = (1 - (distances.unsqueeze(0) - edges).abs() / delta).clamp_min(0);
        var positiveHistogram = (pulse * isPositive).sum(2).t();
        var negativeHistogram = (pulse * isNegative).sum(2).t();
        var positiveCumulative = positiveHistogram.cumsum(1);
        var cumulative = (positiveHistogram + negativeHistogram).cumsum(1);
        var product = positiveHistogram * positiveCumulative;
        var safe = product.gt(0).logical_and(cumulative.gt(0));
        var ratio = where(safe, product / cumulative.masked_fill(safe.logical_not(), 1), zeros_like(product));
        var hasPositive = positives.gt(0);
        var fastAp = ratio.sum(1) / positives.clamp_min(1);
        var loss = (1 - fastAp) * MinerWeights(mined, embeddings.shape[0], dtype, embeddings.device);
        return LossTerms.MoveToOuterDisposeScope(new LossTerms("anchors", LossTermKind.Element, loss, valid: hasPositive));
    }

    /// <summary>Each row's count among the mined indices over the largest count; 1 each when nothing (or nothing at all) was mined.</summary>
    private static Tensor MinerWeights(MinedIndices? mined, long rows, ScalarType dtype, Device device)
    {
        Tensor[] indices = mined switch
        {
            MinedPairs pairs => new[] { pairs.PositiveAnchors, pairs.Positives, pairs.NegativeAnchors, pairs.Negatives },
            MinedTriplets triplets => new[] { triplets.Anchors, triplets.Positives, triplets.Negatives },
            _ => Array.Empty<Tensor>(),
        };
        if (indices.Length == 0)
            return ones(rows, dtype: dtype, device: device);
        var counts = cat(indices, 0).bincount(null, rows).to_type(dtype);
        var most = counts.max();
        // Nothing mined: every row weighs 1, as pytorch-metric-learning's.
        return where(most.gt(0), counts / most.clamp_min(1), ones_like(counts));
    }
}
