using System;
using System.Collections.Generic;
using MetricLearning.Reducers;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// Contrastive loss over every pair of a batch, on a <b>distance</b> d (Euclidean by default):
/// <c>L = mean_{same-class i≠j} max(d_ij − m₊, 0)² + mean_{different-class i≠j} max(m₋ − d_ij, 0)²</c>, over every
/// ordered pair of the batch or over the mined pairs.
/// </summary>
/// <remarks>
/// With m₊ = 0 and m₋ = 1 (the defaults) each half is Hadsell's contrastive loss averaged over the batch's pairs of
/// that kind (for a symmetric distance the mean over ordered pairs equals the mean over unordered ones); averaging
/// the halves separately keeps their balance whatever the batch's class mix. A half with no
/// pairs contributes 0. Stateless and thread-safe.
/// <para>
/// Not pytorch-metric-learning's <c>ContrastiveLoss</c>, though the name and defaults are the same: that one does not
/// square its hinges and averages each half over its pairs above zero (<see cref="AvgNonZeroReducer"/>); see
/// <see cref="MarginContrastiveLoss"/>. This one with <c>reducer: new AvgNonZeroReducer()</c> still squares.
/// </para>
/// <para>Sub-losses: "positive pairs" and "negative pairs" (<see cref="LossTermKind.PositivePair"/>, <see cref="LossTermKind.NegativePair"/>), each reduced by <see cref="BatchLoss.Reducer"/>.</para>
/// </remarks>
public sealed class ContrastiveBatchLoss : BatchLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="positiveMargin">Distance same-class pairs may keep for free; at least 0.</param>
    /// <param name="negativeMargin">Distance beyond which different-class pairs cost nothing; above the positive margin.</param>
    /// <param name="distance">A distance (<see cref="IDistance.IsSimilarity"/> false); null for Euclidean.</param>
    /// <param name="reducer">How each half becomes a number; null for <see cref="MeanReducer"/> (the mean over the half's pairs).</param>
    /// <exception cref="ArgumentException">The margins are out of order or not finite, or <paramref name="distance"/> is a similarity.</exception>
    public ContrastiveBatchLoss(double positiveMargin = 0, double negativeMargin = 1, IDistance? distance = null, IReducer? reducer = null)
        : base(reducer ?? new MeanReducer())
    {
        if (!double.IsFinite(positiveMargin) || positiveMargin < 0)
            throw new ArgumentOutOfRangeException(nameof(positiveMargin), positiveMargin, "The positive margin must be finite and at least 0.");
        if (!double.IsFinite(negativeMargin) || negativeMargin <= positiveMargin)
            throw new ArgumentOutOfRangeException(nameof(negativeMargin), negativeMargin, "The negative margin must be finite and above the positive margin.");
        Distance = distance ?? new Distances.EuclideanDistance();
        if (Distance.IsSimilarity)
            throw new ArgumentException($"The contrastive loss needs a distance; {Distance.GetType().Name} is a similarity.", nameof(distance));
        PositiveMargin = positiveMargin;
        NegativeMargin = negativeMargin;
    }

    /// <summary>Distance same-class pairs may keep for free.</summary>
    public double PositiveMargin { get; }

    /// <summary>Distance beyond which different-class pairs cost nothing.</summary>
    public double NegativeMargin { get; }

    /// <summary>The distance the loss is computed on.</summary>
    public IDistance Distance { get; }

    /// <inheritdoc />
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        using var scope = NewDisposeScope();
        var (positive, negative) = BatchPairMasks.Create(embeddings, labels, mined);
        var distances = Distance.ComputeMatrix(embeddings, embeddings);
        var pull = (distances - PositiveMargin).clamp_min(0).square();
        var push = (NegativeMargin - distances).clamp_min(0).square();
        var anchors = BatchPairMasks.Rows(embeddings.shape[0], embeddings.device);
        return LossTerms.MoveToOuterDisposeScope(
            new LossTerms("positive pairs", LossTermKind.PositivePair, pull, anchors, positive),
            new LossTerms("negative pairs", LossTermKind.NegativePair, push, anchors.alias(), negative));
    }
}
