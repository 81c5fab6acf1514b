using System;
using System.Collections.Generic;
using MetricLearning.Reducers;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// Lifted structured loss (Oh Song, Xiang, Jegelka and Savarese, CVPR 2016): each same-class pair (a, p) is compared
/// with every negative of either end,
/// <c>ℓ(a, p) = ½·[ log( Σ_{n∈N_a} e^{m₋ − d_an} + Σ_{n∈N_p} e^{m₋ − d_pn} ) + d_ap − m₊ ]₊²</c>
/// on a distance d (on a similarity s: <c>s − m₋</c> inside the sum and <c>m₊ − s_ap</c> outside), where N_i are the
/// samples of other classes than i's (or the mined different-class pairs anchored at i). The ½ is because each pair
/// is counted in both orders. A pair whose ends have no negative has its sum taken as 0; a batch without any
/// different-class pair (a single class, or mined indices without one) has loss 0.
/// </summary>
/// <remarks>
/// <para>
/// Equals pytorch-metric-learning's <c>LiftedStructureLoss</c>, with its defaults: m₋ = 1, m₊ = 0, on the Euclidean
/// distance of L2-normalised embeddings, the mean over the same-class pairs. (The paper's log-sum-exp form, with a
/// margin m₊ that pytorch-metric-learning adds.)
/// </para>
/// <para>
/// One sub-loss, "positive pairs" (<see cref="LossTermKind.PositivePair"/>, an <c>[N, N]</c> matrix whose same-class
/// pairs count), reduced by <see cref="BatchLoss.Reducer"/> (<see cref="MeanReducer"/> by default). Accepts mined pairs
/// or triplets. Stateless and thread-safe.
/// </para>
/// </remarks>
public sealed class LiftedStructureLoss : BatchLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="negativeMargin">m₋: on a distance, the distance negatives should exceed; on a similarity, the similarity they should stay below. Finite.</param>
    /// <param name="positiveMargin">m₊: on a distance, the distance same-class pairs may keep for free; on a similarity, the similarity they should reach. Finite.</param>
    /// <param name="distance">How embeddings are compared; null for the Euclidean distance of L2-normalised embeddings.</param>
    /// <param name="reducer">How the pairs' values become the loss; null for <see cref="MeanReducer"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A margin is not finite.</exception>
    public LiftedStructureLoss(double negativeMargin = 1, double positiveMargin = 0, IDistance? distance = null, IReducer? reducer = null)
        : base(reducer ?? new MeanReducer())
    {
        if (!double.IsFinite(negativeMargin))
            throw new ArgumentOutOfRangeException(nameof(negativeMargin), negativeMargin, "The negative margin must be finite.");
        if (!double.IsFinite(positiveMargin))
            throw new ArgumentOutOfRangeException(nameof(positiveMargin), positiveMargin, "The positive margin must be finite.");
        NegativeMargin = negativeMargin;
        PositiveMargin = positiveMargin;
        Distance = distance ?? new Distances.LpDistance(2, normalize: true);
    }

    /// <summary>m₋, the margin of different-class pairs.</summary>
    public double NegativeMargin { get; }

    /// <summary>m₊, the margin of same-class pairs.</summary>
    public double PositiveMargin { get; }

    /// <summary>How embeddings are compared.</summary>
    public IDistance Distance { get; }

    /// <inheritdoc />
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        using var scope = NewDisposeScope();
        var (positive, negative) = BatchPairMasks.Create(embeddings, labels, mined);
        var matrix = Distance.ComputeMatrix(embeddings, embeddings);
        var push = Distance.IsSimilarity ? matrix - NegativeMargin : NegativeMargin - matrix;
        var pull = Distance.IsSimilarity ? PositiveMargin - matrix : matrix - PositiveMargin;
        // Per row, the log-sum-exp of its negatives; per pair (a, p), the two rows' sums together.
        var rows = PairLossMath.MaskedLogSumExp(push, negative, double.NegativeInfinity);
        var both = PairLossMath.LogAddExp(rows.unsqueeze(1), rows.unsqueeze(0), 0);
        // A batch without a different-class pair (one class, or a miner that kept none) has loss 0, as
        // pytorch-metric-learning's; a factor rather than a branch, so nothing is read from the device.
        var contrasted = negative.any().to_type(matrix.dtype);
        var values = (both + pull).relu().square() / 2 * contrasted;
        var anchors = BatchPairMasks.Rows(embeddings.shape[0], embeddings.device);
        return LossTerms.MoveToOuterDisposeScope(new LossTerms("positive pairs", LossTermKind.PositivePair, values, anchors, positive));
    }
}
