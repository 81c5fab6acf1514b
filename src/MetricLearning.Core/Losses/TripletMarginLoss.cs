using System;
using MetricLearning.Mining;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// Triplet margin loss over every valid triplet of a batch (an anchor a, a positive p of a's class, a negative n of
/// another class): <c>ℓ(a, p, n) = max(d(a, p) − d(a, n) + m, 0)</c> for a distance, or
/// <c>max(s(a, n) − s(a, p) + m, 0)</c> for a similarity; the loss is the mean of ℓ over the triplets where it is
/// above zero (0 when none is), as pytorch-metric-learning's default reducer does, so that easy triplets do not
/// dilute the gradient. With mined indices the triplets are the mined ones (from pairs: every mined same-class and
/// different-class pair sharing an anchor), and only their distances are computed.
/// </summary>
/// <remarks>
/// Defaults: margin 0.2 on the Euclidean distance of L2-normalised embeddings. All N³ combinations are formed, so
/// memory grows with the cube of the batch (about 130 MB per intermediate for N = 320); prefer smaller batches or a
/// miner for large ones. Stateless and thread-safe.
/// </remarks>
public sealed class TripletMarginLoss : IBatchLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="margin">How much closer the positive must be than the negative; positive and finite.</param>
    /// <param name="distance">How embeddings are compared (a distance or a similarity); null for the Euclidean distance of L2-normalised embeddings.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="margin"/> is not positive and finite.</exception>
    public TripletMarginLoss(double margin = 0.2, IDistance? distance = null)
    {
        if (!double.IsFinite(margin) || margin <= 0)
            throw new ArgumentOutOfRangeException(nameof(margin), margin, "The triplet margin must be positive and finite.");
        Margin = margin;
        Distance = distance ?? new Distances.LpDistance(2, normalize: true);
    }

    /// <summary>How much closer the positive must be than the negative.</summary>
    public double Margin { get; }

    /// <summary>How embeddings are compared.</summary>
    public IDistance Distance { get; }

    /// <inheritdoc />
    public Tensor Compute(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        if (mined is not null)
            return ComputeMined(embeddings, labels, mined);
        using var scope = NewDisposeScope();
        var (positive, negative) = BatchPairMasks.Create(embeddings, labels);
        var matrix = Distance.ComputeMatrix(embeddings, embeddings);
        var anchorPositive = matrix.unsqueeze(2);
        var anchorNegative = matrix.unsqueeze(1);
        // How far the negative fails to be farther (or less similar) than the positive, plus the margin.
        var violation = (Distance.IsSimilarity ? anchorNegative - anchorPositive : anchorPositive - anchorNegative) + Margin;
        var valid = positive.unsqueeze(2).logical_and(negative.unsqueeze(1));
        var losses = violation.clamp_min(0) * valid.to_type(violation.dtype);
        var active = losses.gt(0).to_type(losses.dtype).sum().clamp_min(1);
        return (losses.sum() / active).MoveToOuterDisposeScope();
    }

    /// <summary>The loss over mined triplets, from their row-wise distances only.</summary>
    private Tensor ComputeMined(Tensor embeddings, Tensor labels, MinedIndices mined)
    {
        BatchPairMasks.Validate(embeddings, labels, mined);
        using var scope = NewDisposeScope();
        var (anchors, positives, negatives) = mined.Triplets();
        var anchorRows = embeddings.index_select(0, anchors);
        var anchorPositive = Distance.Compute(anchorRows, embeddings.index_select(0, positives));
        var anchorNegative = Distance.Compute(anchorRows, embeddings.index_select(0, negatives));
        var violation = (Distance.IsSimilarity ? anchorNegative - anchorPositive : anchorPositive - anchorNegative) + Margin;
        var losses = violation.clamp_min(0);
        var active = losses.gt(0).to_type(losses.dtype).sum().clamp_min(1);
        // With no triplets this is a 0 that is still connected to the embeddings (through the empty selections).
        return (losses.sum() / active).MoveToOuterDisposeScope();
    }
}
