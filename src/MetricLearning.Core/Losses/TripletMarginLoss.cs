using System;
using System.Collections.Generic;
using MetricLearning.Reducers;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// Triplet margin loss over every valid triplet of a batch (an anchor a, a positive p of a's class, a negative n of
/// another class): <c>ℓ(a, p, n) = max(d(a, p) − d(a, n) + m, 0)</c> for a distance, or
/// <c>max(s(a, n) − s(a, p) + m, 0)</c> for a similarity; the loss is the mean of ℓ over the triplets where it is
/// above zero (0 when none is), as pytorch-metric-learning's default reducer does, so that easy triplets do not
/// dilute the gradient. With mined indices the triplets are the mined ones (from pairs: every mined same-class and
/// different-class pair sharing an anchor).
/// </summary>
/// <remarks>
/// Defaults: margin 0.2 on the Euclidean distance of L2-normalised embeddings. Without a miner (or with mined pairs)
/// the triplets are formed per same-class pair against every negative of its anchor, so memory grows with the number
/// of same-class pairs times the batch (about 13 MB per intermediate for 10 classes of 32), not with its cube.
/// Mined triplets read their two distances from the batch's <c>[N, N]</c> matrix, however many there are.
/// Stateless and thread-safe.
/// <para>
/// One sub-loss, "triplets" (<see cref="LossTermKind.Triplet"/>), reduced by <see cref="BatchLoss.Reducer"/>
/// (<see cref="AvgNonZeroReducer"/> by default, as pytorch-metric-learning's). pytorch-metric-learning's
/// <c>TripletMarginLoss</c> defaults to a margin of 0.05; ours to 0.2 (FaceNet's).
/// </para>
/// </remarks>
public sealed class TripletMarginLoss : BatchLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="margin">How much closer the positive must be than the negative; positive and finite.</param>
    /// <param name="distance">How embeddings are compared (a distance or a similarity); null for the Euclidean distance of L2-normalised embeddings.</param>
    /// <param name="reducer">How the triplets' values become the loss; null for <see cref="AvgNonZeroReducer"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="margin"/> is not positive and finite.</exception>
    public TripletMarginLoss(double margin = 0.2, IDistance? distance = null, IReducer? reducer = null)
        : base(reducer ?? new AvgNonZeroReducer())
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
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        if (mined is MinedTriplets triplets)
            return ComputeTriplets(embeddings, labels, triplets);
        using var scope = NewDisposeScope();
        var (positive, negative) = BatchPairMasks.Create(embeddings, labels, mined);
        var matrix = Distance.ComputeMatrix(embeddings, embeddings);
        // One row per same-class pair (a, p): its comparison with every sample n, kept where (a, n) is a negative.
        var pairs = positive.nonzero();
        var anchors = pairs.select(1, 0);
        var anchorRows = matrix.index_select(0, anchors);
        var toPositive = anchorRows.gather(1, pairs.select(1, 1).unsqueeze(1));
        var violation = (Distance.IsSimilarity ? anchorRows - toPositive : toPositive - anchorRows) + Margin;
        var valid = negative.index_select(0, anchors);
        return LossTerms.MoveToOuterDisposeScope(
            new LossTerms("triplets", LossTermKind.Triplet, violation.clamp_min(0), anchors.unsqueeze(1), valid));
    }

    /// <summary>The loss over mined triplets, their distances read from the batch's distance matrix.</summary>
    private IReadOnlyList<LossTerms> ComputeTriplets(Tensor embeddings, Tensor labels, MinedTriplets mined)
    {
        BatchPairMasks.Validate(embeddings, labels, mined);
        using var scope = NewDisposeScope();
        // Thousands of triplets share 320 embeddings: one N×N matrix is cheaper than their row-wise distances.
        var matrix = Distance.ComputeMatrix(embeddings, embeddings).flatten();
        var rowStart = mined.Anchors * embeddings.shape[0];
        var anchorPositive = matrix.index_select(0, rowStart + mined.Positives);
        var anchorNegative = matrix.index_select(0, rowStart + mined.Negatives);
        var violation = (Distance.IsSimilarity ? anchorNegative - anchorPositive : anchorPositive - anchorNegative) + Margin;
        // With no triplets the reduced loss is a 0 that is still connected to the embeddings (through the empty selection).
        return LossTerms.MoveToOuterDisposeScope(
            new LossTerms("triplets", LossTermKind.Triplet, violation.clamp_min(0), mined.Anchors.alias()));
    }
}
