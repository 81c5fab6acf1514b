using System;
using System.Collections.Generic;
using MetricLearning.Reducers;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// Circle loss (Sun, Cheng, Zhang, Zhang, Zheng, Wang and Wei, CVPR 2020) on the cosine similarity S of every
/// ordered pair: for each anchor i,
/// <c>L_i = softplus( log Σ_{p∈P_i} e^{−γ·[1 + m − S_ip]₊·(S_ip − (1 − m))} + log Σ_{n∈N_i} e^{γ·[S_in + m]₊·(S_in − m)} )</c>,
/// where P_i are the other samples of i's class and N_i the samples of other classes (or the mined same-class and
/// different-class pairs anchored at i). The weights <c>[1 + m − S]₊</c> and <c>[S + m]₊</c> are held constant in
/// the gradient, as in the paper. An anchor without a positive or without a negative has value 0.
/// </summary>
/// <remarks>
/// <para>
/// Equals pytorch-metric-learning's <c>CircleLoss</c>, with its defaults: m = 0.4, γ = 80 (the paper's setting for
/// fine-grained retrieval; it suggests m = 0.25, γ = 256 for faces), on the cosine similarity (pytorch-metric-learning
/// accepts no other, nor does this loss), reduced by <see cref="AvgNonZeroReducer"/>.
/// </para>
/// <para>
/// One sub-loss, "anchors" (<see cref="LossTermKind.Element"/>): one value per batch row, every row counting (rows
/// without a positive or a negative are 0, as pytorch-metric-learning's, so a mean reducer divides by N).
/// Accepts mined pairs or triplets. Stateless and thread-safe.
/// </para>
/// </remarks>
public sealed class CircleLoss : BatchLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="m">The relaxation m: positives aim at similarity 1 − m and beyond, negatives at m and below; finite, in [0, 1].</param>
    /// <param name="gamma">The scale γ; positive and finite.</param>
    /// <param name="reducer">How the anchors' values become the loss; null for <see cref="AvgNonZeroReducer"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="m"/> or <paramref name="gamma"/> is out of range.</exception>
    public CircleLoss(double m = 0.4, double gamma = 80, IReducer? reducer = null)
        : base(reducer ?? new AvgNonZeroReducer())
    {
        if (!double.IsFinite(m) || m < 0 || m > 1)
            throw new ArgumentOutOfRangeException(nameof(m), m, "The relaxation m must be between 0 and 1.");
        if (!double.IsFinite(gamma) || gamma <= 0)
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "The scale gamma must be positive and finite.");
        M = m;
        Gamma = gamma;
    }

    /// <summary>The relaxation m.</summary>
    public double M { get; }

    /// <summary>The scale γ.</summary>
    public double Gamma { get; }

    /// <summary>The similarity the loss is computed on: the cosine similarity.</summary>
    public IDistance Similarity { get; } = new Distances.CosineSimilarity();

    /// <inheritdoc />
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        using var scope = NewDisposeScope();
        var (positive, negative) = BatchPairMasks.Create(embeddings, labels, mined);
        var similarity = Similarity.ComputeMatrix(embeddings, embeddings);
        var held = similarity.detach();
        var pull = (1 + M - held).relu() * (similarity - (1 - M)) * -Gamma;
        var push = (held + M).relu() * (similarity - M) * Gamma;
        var both = positive.any(1).logical_and(negative.any(1));
        var sum = PairLossMath.MaskedLogSumExp(pull, positive, 0) + PairLossMath.MaskedLogSumExp(push, negative, 0);
        var values = nn.functional.softplus(sum).masked_fill(both.logical_not(), 0);
        return LossTerms.MoveToOuterDisposeScope(new LossTerms("anchors", LossTermKind.Element, values));
    }
}
