using System;
using System.Collections.Generic;
using MetricLearning.Reducers;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// The generalised lifted structure loss (Hermans, Beyer and Leibe, "In Defense of the Triplet Loss for Person
/// Re-Identification", arXiv 2017, page 4): for each anchor i,
/// <c>L_i = [ log Σ_{p∈P_i} e^{d_ip − m₊} + log Σ_{n∈N_i} e^{m₋ − d_in} ]₊</c> on a distance d (on a similarity s:
/// <c>m₊ − s_ip</c> and <c>s_in − m₋</c>), where P_i are the other samples of i's class and N_i the samples of other
/// classes (or the mined pairs anchored at i). An empty sum's log is taken as 0.
/// </summary>
/// <remarks>
/// <para>
/// Equals pytorch-metric-learning's <c>GeneralizedLiftedStructureLoss</c>, with its defaults: m₋ = 1, m₊ = 0, on the
/// Euclidean distance of L2-normalised embeddings, the mean over the batch's rows.
/// </para>
/// <para>
/// One sub-loss, "anchors" (<see cref="LossTermKind.Element"/>): one value per batch row, every row counting (as
/// pytorch-metric-learning's), reduced by <see cref="BatchLoss.Reducer"/> (<see cref="MeanReducer"/> by default).
/// Accepts mined pairs or triplets. Stateless and thread-safe.
/// </para>
/// </remarks>
public sealed class GeneralizedLiftedStructureLoss : BatchLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="negativeMargin">m₋: on a distance, the distance negatives should exceed; on a similarity, the similarity they should stay below. Finite.</param>
    /// <param name="positiveMargin">m₊: on a distance, the distance same-class pairs may keep for free; on a similarity, the similarity they should reach. Finite.</param>
    /// <param name="distance">How embeddings are compared; null for the Euclidean distance of L2-normalised embeddings.</param>
    /// <param name="reducer">How the anchors' values become the loss; null for <see cref="MeanReducer"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A margin is not finite.</exception>
    public GeneralizedLiftedStructureLoss(double negativeMargin = 1, double positiveMargin = 0, IDistance? distance = null, IReducer? reducer = null)
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
        var pull = Distance.IsSimilarity ? PositiveMargin - matrix : matrix - PositiveMargin;
        var push = Distance.IsSimilarity ? matrix - NegativeMargin : NegativeMargin - matrix;
        var values = (PairLossMath.MaskedLogSumExp(pull, positive, 0) + PairLossMath.MaskedLogSumExp(push, negative, 0)).relu();
        return LossTerms.MoveToOuterDisposeScope(new LossTerms("anchors", LossTermKind.Element, values));
    }
}
