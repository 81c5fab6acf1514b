using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// Histogram loss (Ustinova and Lempitsky, "Learning Deep Embeddings with Histogram Loss", NeurIPS 2016),
/// pytorch-metric-learning's <c>HistogramLoss</c>: the cosine similarities of the batch's same-class pairs and of its
/// different-class pairs are soft-binned (linear interpolation onto R = B + 1 nodes t_r = −1 + r·Δ, Δ = 2/B) into two
/// histograms p⁺ and p⁻, each normalised by its number of pairs; the loss is the estimated probability that a
/// different-class pair is more similar than a same-class pair, <c>L = Σ_r p⁻_r · Φ⁺_r</c>, where
/// <c>Φ⁺_r = Σ_{q≤r} p⁺_q</c>.
/// </summary>
/// <remarks>
/// <para>
/// Default B = 100 (Δ = 0.02) on cosine similarity, pytorch-metric-learning's (its <c>delta</c> is 2/B; give the bins).
/// The pairs are unordered, each once: those of the triplets of the batch, or of the mined triplets (mined pairs make
/// triplets by sharing an anchor), as pytorch-metric-learning takes them. Without triplets (a batch of one class) the
/// loss is 0, connected to the embeddings. A similarity of exactly 1 falls on the last node (pytorch-metric-learning
/// indexes past its histogram there); rounding outside [−1, 1] is clamped to the ends.
/// </para>
/// <para>
/// One sub-loss, "histograms" (<see cref="LossTermKind.AlreadyReduced"/>: every reducer passes it through, as in
/// pytorch-metric-learning). Stateless and thread-safe.
/// </para>
/// </remarks>
public sealed class HistogramLoss : BatchLoss
{
    private static readonly Distances.CosineSimilarity Similarity = new();

    /// <summary>Creates the loss.</summary>
    /// <param name="bins">The number of histogram bins B over [−1, 1]; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bins"/> is below 1.</exception>
    public HistogramLoss(int bins = 100)
        : base(new Reducers.MeanReducer())
    {
        if (bins < 1)
            throw new ArgumentOutOfRangeException(nameof(bins), bins, "The histogram loss needs at least one bin.");
        Bins = bins;
    }

    /// <summary>The number of histogram bins B.</summary>
    public int Bins { get; }

    /// <summary>The width Δ = 2/B of a bin.</summary>
    public double Delta => 2.0 / Bins;

    /// <inheritdoc />
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        using var scope = NewDisposeScope();
        var (positive, negative) = BatchPairMasks.Create(embeddings, labels, mined);
        if (mined is not MinedTriplets)
        {
            // Pairs make triplets where a same-class and a different-class pair share their anchor.
            var hasNegative = negative.any(1, keepdim: true);
            var hasPositive = positive.any(1, keepdim: true);
            (positive, negative) = (positive.logical_and(hasNegative), negative.logical_and(hasPositive));
        }

        // Unordered pairs, each once: (i, j) or (j, i), kept on and above the diagonal.
        var upper = ones(positive.shape[0], positive.shape[0], dtype: ScalarType.Bool, device: positive.device).triu();
        positive = positive.logical_or(positive.t()).logical_and(upper);
        negative = negative.logical_or(negative.t()).logical_and(upper);
        var similarity = Similarity.ComputeMatrix(embeddings, embeddings);
        var positiveDensity = Density(similarity, positive);
        var negativeDensity = Density(similarity, negative);
        var loss = (negativeDensity * positiveDensity.cumsum(0)).sum();
        return LossTerms.MoveToOuterDisposeScope(new LossTerms("histograms", LossTermKind.AlreadyReduced, loss));
    }

    /// <summary>The soft histogram of the similarities where <paramref name="mask"/> is true, over the B + 1 nodes, summing to 1 (0 for no pairs).</summary>
    private Tensor Density(Tensor similarity, Tensor mask)
    {
        double delta = Delta;
        Tensor bin;
        using (no_grad())
            bin = ((similarity.detach() + 1) / delta).floor().clamp(0, Bins - 1).to_type(ScalarType.Int64);
        var weights = mask.to_type(similarity.dtype);
        var start = bin.to_type(similarity.dtype) * delta;
        // The share of each similarity on its bin's upper node and on its lower node.
        var upperShare = (similarity + 1 - start) / delta * weights;
        var lowerShare = ((bin + 1).to_type(similarity.dtype) * delta - 1 - similarity) / delta * weights;
        var density = zeros(Bins + 1, dtype: similarity.dtype, device: similarity.device)
            .scatter_add(0, (bin + 1).flatten(), upperShare.flatten())
            .scatter_add(0, bin.flatten(), lowerShare.flatten());
        return density / weights.sum().clamp_min(1);
    }
}
