using System;
using System.Collections.Generic;
using MetricLearning.Reducers;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// Contrastive loss with plain hinges, pytorch-metric-learning's <c>ContrastiveLoss</c>: on a distance d, each
/// same-class pair costs <c>max(d − m₊, 0)</c> and each different-class pair <c>max(m₋ − d, 0)</c>; on a similarity s,
/// <c>max(m₊ − s, 0)</c> and <c>max(s − m₋, 0)</c>. Each half is reduced on its own (by default the mean of its
/// pairs above zero) and the halves are added.
/// </summary>
/// <remarks>
/// <para>
/// Defaults m₊ = 0, m₋ = 1 on the Euclidean distance of L2-normalised embeddings, and <see cref="AvgNonZeroReducer"/>:
/// pytorch-metric-learning's.
/// <see cref="ContrastiveBatchLoss"/> is the other form, Hadsell's: squared hinges, each half averaged over all its
/// pairs. The hinges here have a constant slope, so a pair just past its margin pulls as hard as a far one; the
/// average over the non-zero pairs keeps that pull from fading as the batch gets easier.
/// </para>
/// <para>
/// Sub-losses "positive pairs" and "negative pairs" (<see cref="LossTermKind.PositivePair"/>,
/// <see cref="LossTermKind.NegativePair"/>), over every ordered pair of the batch or the mined pairs. Stateless and
/// thread-safe.
/// </para>
/// </remarks>
public sealed class MarginContrastiveLoss : BatchLoss, IReferenceBatchLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="positiveMargin">On a distance, the distance same-class pairs may keep for free; on a similarity, the similarity they must reach. Finite.</param>
    /// <param name="negativeMargin">On a distance, the distance beyond which different-class pairs cost nothing; on a similarity, the similarity below which they cost nothing. Finite.</param>
    /// <param name="distance">How embeddings are compared; null for the Euclidean distance of L2-normalised embeddings.</param>
    /// <param name="reducer">How each half becomes a number; null for <see cref="AvgNonZeroReducer"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A margin is not finite.</exception>
    public MarginContrastiveLoss(double positiveMargin = 0, double negativeMargin = 1, IDistance? distance = null, IReducer? reducer = null)
        : base(reducer ?? new AvgNonZeroReducer())
    {
        if (!double.IsFinite(positiveMargin))
            throw new ArgumentOutOfRangeException(nameof(positiveMargin), positiveMargin, "The positive margin must be finite.");
        if (!double.IsFinite(negativeMargin))
            throw new ArgumentOutOfRangeException(nameof(negativeMargin), negativeMargin, "The negative margin must be finite.");
        PositiveMargin = positiveMargin;
        NegativeMargin = negativeMargin;
        Distance = distance ?? new Distances.LpDistance(2, normalize: true);
    }

    /// <summary>The margin of same-class pairs.</summary>
    public double PositiveMargin { get; }

    /// <summary>The margin of different-class pairs.</summary>
    public double NegativeMargin { get; }

    /// <summary>How embeddings are compared.</summary>
    public IDistance Distance { get; }

    /// <inheritdoc />
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        using var scope = NewDisposeScope();
        var (positive, negative) = BatchPairMasks.Create(embeddings, labels, mined);
        return Terms(embeddings, embeddings, positive, negative);
    }

    /// <inheritdoc />
    IReadOnlyList<LossTerms> IReferenceBatchLoss.ComputeTerms(Tensor queries, Tensor references, Tensor positive, Tensor negative)
    {
        using var scope = NewDisposeScope();
        return Terms(queries, references, positive, negative);
    }

    /// <summary>The terms of the pairs (query i, reference j) in the masks; called in the caller's dispose scope, which it leaves.</summary>
    private IReadOnlyList<LossTerms> Terms(Tensor queries, Tensor references, Tensor positive, Tensor negative)
    {
        var matrix = Distance.ComputeMatrix(queries, references);
        var pull = (Distance.IsSimilarity ? PositiveMargin - matrix : matrix - PositiveMargin).clamp_min(0);
        var push = (Distance.IsSimilarity ? matrix - NegativeMargin : NegativeMargin - matrix).clamp_min(0);
        var anchors = BatchPairMasks.Rows(queries.shape[0], queries.device);
        return LossTerms.MoveToOuterDisposeScope(
            new LossTerms("positive pairs", LossTermKind.PositivePair, pull, anchors, positive),
            new LossTerms("negative pairs", LossTermKind.NegativePair, push, anchors.alias(), negative));
    }
}
