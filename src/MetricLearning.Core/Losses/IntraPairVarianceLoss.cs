using System;
using System.Collections.Generic;
using MetricLearning.Reducers;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// Intra-pair variance loss (Yu and Tao, "Deep Metric Learning with Tuplet Margin Loss", ICCV 2019): pairs are pulled
/// towards their kind's mean, so that the similarities of same-class pairs, and those of different-class pairs,
/// spread less. On a similarity S, with μ₊ and μ₋ the means over the same-class and the different-class pairs
/// (or the mined ones): same-class pairs cost <c>[(1 − ε₊)·μ₊ − S_ap]₊²</c>, different-class pairs
/// <c>[S_an − (1 + ε₋)·μ₋]₊²</c>; on a distance d, <c>[d_ap − (1 + ε₊)·μ₊]₊²</c> and <c>[(1 − ε₋)·μ₋ − d_an]₊²</c>.
/// The means are part of the gradient.
/// </summary>
/// <remarks>
/// <para>
/// Equals pytorch-metric-learning's <c>IntraPairVarianceLoss</c>, with its defaults: ε₊ = ε₋ = 0.01 on the cosine
/// similarity, each half the mean over its pairs. The paper adds it to <see cref="TupletMarginLoss"/>.
/// </para>
/// <para>
/// Sub-losses "positive pairs" and "negative pairs" (<see cref="LossTermKind.PositivePair"/>,
/// <see cref="LossTermKind.NegativePair"/>, <c>[N, N]</c> matrices), each reduced by <see cref="BatchLoss.Reducer"/>
/// (<see cref="MeanReducer"/> by default) and added. Accepts mined pairs or triplets. Stateless and thread-safe.
/// </para>
/// </remarks>
public sealed class IntraPairVarianceLoss : BatchLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="positiveEpsilon">ε₊, how far below their mean (on a similarity) same-class pairs may fall for free; finite, in [0, 1].</param>
    /// <param name="negativeEpsilon">ε₋, how far above their mean (on a similarity) different-class pairs may rise for free; finite, in [0, 1].</param>
    /// <param name="distance">How embeddings are compared; null for the cosine similarity.</param>
    /// <param name="reducer">How each half's values become a number; null for <see cref="MeanReducer"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An epsilon is out of range.</exception>
    public IntraPairVarianceLoss(double positiveEpsilon = 0.01, double negativeEpsilon = 0.01, IDistance? distance = null, IReducer? reducer = null)
        : base(reducer ?? new MeanReducer())
    {
        if (!double.IsFinite(positiveEpsilon) || positiveEpsilon < 0 || positiveEpsilon > 1)
            throw new ArgumentOutOfRangeException(nameof(positiveEpsilon), positiveEpsilon, "The positive epsilon must be between 0 and 1.");
        if (!double.IsFinite(negativeEpsilon) || negativeEpsilon < 0 || negativeEpsilon > 1)
            throw new ArgumentOutOfRangeException(nameof(negativeEpsilon), negativeEpsilon, "The negative epsilon must be between 0 and 1.");
        PositiveEpsilon = positiveEpsilon;
        NegativeEpsilon = negativeEpsilon;
        Distance = distance ?? new Distances.CosineSimilarity();
    }

    /// <summary>ε₊, the slack of same-class pairs.</summary>
    public double PositiveEpsilon { get; }

    /// <summary>ε₋, the slack of different-class pairs.</summary>
    public double NegativeEpsilon { get; }

    /// <summary>How embeddings are compared.</summary>
    public IDistance Distance { get; }

    /// <inheritdoc />
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        using var scope = NewDisposeScope();
        var (positive, negative) = BatchPairMasks.Create(embeddings, labels, mined);
        var matrix = Distance.ComputeMatrix(embeddings, embeddings);
        var positiveMean = Mean(matrix, positive);
        var negativeMean = Mean(matrix, negative);
        // On a similarity same-class pairs should rise to their mean and different-class pairs fall to theirs; on a distance the reverse.
        var pull = Distance.IsSimilarity ? (1 - PositiveEpsilon) * positiveMean - matrix : matrix - (1 + PositiveEpsilon) * positiveMean;
        var push = Distance.IsSimilarity ? matrix - (1 + NegativeEpsilon) * negativeMean : (1 - NegativeEpsilon) * negativeMean - matrix;
        var anchors = BatchPairMasks.Rows(embeddings.shape[0], embeddings.device);
        return LossTerms.MoveToOuterDisposeScope(
            new LossTerms("positive pairs", LossTermKind.PositivePair, pull.relu().square(), anchors, positive),
            new LossTerms("negative pairs", LossTermKind.NegativePair, push.relu().square(), anchors.alias(), negative));
    }

    /// <summary>The mean of the matrix over the mask (0 when it is empty).</summary>
    private static Tensor Mean(Tensor matrix, Tensor mask) =>
        matrix.masked_fill(mask.logical_not(), 0).sum() / mask.sum().to_type(matrix.dtype).clamp_min(1);
}
