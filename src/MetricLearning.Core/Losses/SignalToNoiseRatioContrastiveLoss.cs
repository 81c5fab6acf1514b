using System;
using System.Collections.Generic;
using MetricLearning.Distances;
using MetricLearning.Reducers;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// Signal-to-noise ratio contrastive loss (Yuan, Chen, Yang and Wang, "Signal-To-Noise Ratio: A Robust Distance
/// Metric for Deep Metric Learning", CVPR 2019): the contrastive loss with plain hinges on the SNR distance
/// (<see cref="SnrDistance"/>, <c>d(a, b) = Var(b − a) / Var(a)</c>): same-class pairs cost <c>max(d − m₊, 0)</c> and
/// different-class pairs <c>max(m₋ − d, 0)</c>, each half reduced on its own and the halves added.
/// </summary>
/// <remarks>
/// <para>
/// Equals pytorch-metric-learning's <c>SignalToNoiseRatioContrastiveLoss</c> (its <c>ContrastiveLoss</c> on its
/// <c>SNRDistance</c>), with its defaults: m₊ = 0, m₋ = 1, the SNR distance of L2-normalised embeddings, and
/// <see cref="AvgNonZeroReducer"/>. The paper's regulariser on the embeddings' mean is not part of it (give an
/// <see cref="BatchLoss.EmbeddingRegularizer"/>). It is <see cref="MarginContrastiveLoss"/> on that distance.
/// </para>
/// <para>
/// Sub-losses "positive pairs" and "negative pairs" (<see cref="LossTermKind.PositivePair"/>,
/// <see cref="LossTermKind.NegativePair"/>), over every ordered pair of the batch or the mined pairs. Stateless and
/// thread-safe.
/// </para>
/// </remarks>
public sealed class SignalToNoiseRatioContrastiveLoss : BatchLoss
{
    private readonly MarginContrastiveLoss _contrastive;

    /// <summary>Creates the loss.</summary>
    /// <param name="positiveMargin">m₊, the SNR distance same-class pairs may keep for free; finite.</param>
    /// <param name="negativeMargin">m₋, the SNR distance beyond which different-class pairs cost nothing; finite.</param>
    /// <param name="distance">The SNR distance to use; null for that of L2-normalised embeddings.</param>
    /// <param name="reducer">How each half becomes a number; null for <see cref="AvgNonZeroReducer"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A margin is not finite.</exception>
    public SignalToNoiseRatioContrastiveLoss(double positiveMargin = 0, double negativeMargin = 1, SnrDistance? distance = null, IReducer? reducer = null)
        : base(reducer ?? new AvgNonZeroReducer())
    {
        Distance = distance ?? new SnrDistance();
        _contrastive = new MarginContrastiveLoss(positiveMargin, negativeMargin, Distance, Reducer);
    }

    /// <summary>m₊, the margin of same-class pairs.</summary>
    public double PositiveMargin => _contrastive.PositiveMargin;

    /// <summary>m₋, the margin of different-class pairs.</summary>
    public double NegativeMargin => _contrastive.NegativeMargin;

    /// <summary>The SNR distance the loss is computed on.</summary>
    public SnrDistance Distance { get; }

    /// <inheritdoc />
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null) =>
        _contrastive.ComputeTerms(embeddings, labels, mined);
}
