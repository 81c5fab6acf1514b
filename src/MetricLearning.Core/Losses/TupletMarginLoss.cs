using System;
using System.Collections.Generic;
using MetricLearning.Reducers;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// Tuplet margin loss (Yu and Tao, "Deep Metric Learning with Tuplet Margin Loss", ICCV 2019) on the cosine
/// similarity: each same-class pair (a, p), at angle θ_ap, is compared with every negative of its anchor,
/// <c>ℓ(a, p) = log( 1 + Σ_{n∈N_a} e^{s·(cos θ_an − cos(θ_ap − β))} )</c>, where N_a are the samples of other classes
/// (or the mined different-class pairs anchored at a), s the scale and β the angular margin, in radians.
/// </summary>
/// <remarks>
/// <para>
/// Equals pytorch-metric-learning's <c>TupletMarginLoss</c>, with its defaults but for the margin's unit: scale 64,
/// margin 0.1 radians (pytorch-metric-learning's is in degrees, 5.73 by default, which is 0.1000074 radians, its
/// rounding of the paper's 0.1), the mean over the same-class pairs; on the cosine similarity only, as
/// pytorch-metric-learning's. A same-class pair at similarity exactly ±1 has an infinite slope (that of arccos), as
/// pytorch-metric-learning's; similarities are clamped to [−1, 1] against rounding before the arccos.
/// The paper pairs it with <see cref="IntraPairVarianceLoss"/>.
/// </para>
/// <para>
/// One sub-loss, "positive pairs" (<see cref="LossTermKind.PositivePair"/>, an <c>[N, N]</c> matrix whose same-class
/// pairs count), reduced by <see cref="BatchLoss.Reducer"/> (<see cref="MeanReducer"/> by default). Accepts mined pairs
/// or triplets. Stateless and thread-safe.
/// </para>
/// </remarks>
public sealed class TupletMarginLoss : BatchLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="margin">β, the angular margin in radians; in [0, π/2].</param>
    /// <param name="scale">s; positive and finite.</param>
    /// <param name="reducer">How the pairs' values become the loss; null for <see cref="MeanReducer"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="margin"/> or <paramref name="scale"/> is out of range.</exception>
    public TupletMarginLoss(double margin = 0.1, double scale = 64, IReducer? reducer = null)
        : base(reducer ?? new MeanReducer())
    {
        if (!double.IsFinite(margin) || margin < 0 || margin > Math.PI / 2)
            throw new ArgumentOutOfRangeException(nameof(margin), margin, "The angular margin must be between 0 and π/2 radians.");
        if (!double.IsFinite(scale) || scale <= 0)
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale must be positive and finite.");
        Margin = margin;
        Scale = scale;
    }

    /// <summary>β, the angular margin, radians.</summary>
    public double Margin { get; }

    /// <summary>s, the scale.</summary>
    public double Scale { get; }

    /// <summary>The similarity the loss is computed on: the cosine similarity.</summary>
    public IDistance Similarity { get; } = new Distances.CosineSimilarity();

    /// <inheritdoc />
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        using var scope = NewDisposeScope();
        var (positive, negative) = BatchPairMasks.Create(embeddings, labels, mined);
        var similarity = Similarity.ComputeMatrix(embeddings, embeddings);
        // The arccos only where a pair counts: elsewhere (the diagonal, at 1) its infinite slope would make NaN gradients.
        var angles = similarity.masked_fill(positive.logical_not(), 0).clamp(-1, 1).acos();
        var target = (angles - Margin).cos() * Scale;
        var negatives = PairLossMath.MaskedLogSumExp(similarity * Scale, negative, double.NegativeInfinity);
        var values = nn.functional.softplus(negatives.unsqueeze(1) - target);
        var anchors = BatchPairMasks.Rows(embeddings.shape[0], embeddings.device);
        return LossTerms.MoveToOuterDisposeScope(new LossTerms("positive pairs", LossTermKind.PositivePair, values, anchors, positive));
    }
}
