using System;
using System.Collections.Generic;
using MetricLearning.Reducers;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// Multi-similarity loss (Wang et al., CVPR 2019) over all pairs of a batch, on a <b>similarity</b> S
/// (cosine by default):
/// <c>L = mean_i [ (1/α)·log(1 + Σ_{k∈P_i} e^{−α(S_ik − λ)}) + (1/β)·log(1 + Σ_{k∈N_i} e^{β(S_ik − λ)}) ]</c>,
/// where P_i are the other samples of i's class and N_i the samples of other classes, or, with mined indices, the
/// mined same-class and different-class pairs anchored at i (pair it with <see cref="Mining.MultiSimilarityMiner"/> as the
/// paper does).
/// </summary>
/// <remarks>
/// Defaults α = 2, β = 50, λ = 0.5 (pytorch-metric-learning's). Same-class pairs below λ and different-class
/// pairs above it dominate their sums, so hard pairs weigh most without an explicit miner. An anchor without
/// positives (or negatives) contributes 0 to that half. Computed with log-sum-exp for stability. Stateless and
/// thread-safe.
/// <para>
/// Hand-written gradient (<see cref="IFusedBatchLoss"/>): on cosine similarity, with a multi-similarity miner
/// (<see cref="IMultiSimilarityMiner"/>, cosine) or none, the derivative with respect to each similarity is
/// <c>∂L/∂S_ik = −(1/N)·e^{−α(S_ik − λ)} / (1 + Σ_P e^{−α(S − λ)})</c> for a counted positive and
/// <c>(1/N)·e^{β(S_ik − λ)} / (1 + Σ_N e^{β(S − λ)})</c> for a counted negative, taken back through
/// <c>S = N·Nᵀ</c> and the normalisation in closed form, so that a network with a hand-written pass trains without
/// autograd. It applies with the default reducer and no regularizer only.
/// </para>
/// <para>One sub-loss, "anchors" (<see cref="LossTermKind.Element"/>): each anchor's value, reduced by <see cref="BatchLoss.Reducer"/> (the mean over the batch by default, as pytorch-metric-learning's).</para>
/// </remarks>
public sealed class MultiSimilarityLoss : BatchLoss, IFusedBatchLoss, IReferenceBatchLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="alpha">Weight of same-class pairs; positive.</param>
    /// <param name="beta">Weight of different-class pairs; positive.</param>
    /// <param name="lambda">Similarity at which pairs change from cheap to costly.</param>
    /// <param name="similarity">A similarity (<see cref="IDistance.IsSimilarity"/> true); null for cosine similarity.</param>
    /// <param name="reducer">How the anchors' values become the loss; null for <see cref="MeanReducer"/>.</param>
    /// <exception cref="ArgumentException">A weight is not positive and finite, or <paramref name="similarity"/> is a distance.</exception>
    public MultiSimilarityLoss(double alpha = 2, double beta = 50, double lambda = 0.5, IDistance? similarity = null, IReducer? reducer = null)
        : base(reducer ?? new MeanReducer())
    {
        if (!double.IsFinite(alpha) || alpha <= 0)
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "Alpha must be positive and finite.");
        if (!double.IsFinite(beta) || beta <= 0)
            throw new ArgumentOutOfRangeException(nameof(beta), beta, "Beta must be positive and finite.");
        if (!double.IsFinite(lambda))
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "Lambda must be finite.");
        Similarity = similarity ?? new Distances.CosineSimilarity();
        if (!Similarity.IsSimilarity)
            throw new ArgumentException($"The multi-similarity loss needs a similarity; {Similarity.GetType().Name} is a distance.", nameof(similarity));
        Alpha = alpha;
        Beta = beta;
        Lambda = lambda;
    }

    /// <summary>Weight of same-class pairs.</summary>
    public double Alpha { get; }

    /// <summary>Weight of different-class pairs.</summary>
    public double Beta { get; }

    /// <summary>Similarity at which pairs change from cheap to costly.</summary>
    public double Lambda { get; }

    /// <summary>The similarity the loss is computed on.</summary>
    public IDistance Similarity { get; }

    /// <summary>The hand-written gradient on cosine similarity, with a cosine multi-similarity miner or none; null, with the reason, otherwise.</summary>
    /// <param name="miner">The trainer's miner, or null.</param>
    /// <param name="maxRows">The most embeddings one step has.</param>
    /// <param name="embeddingWidth">The width of the embeddings.</param>
    /// <param name="whyNot">Why it does not apply; null when it does.</param>
    public IFusedBatchGradient? CreateFusedGradient(IMiner? miner, int maxRows, int embeddingWidth, out string? whyNot) =>
        FusedMultiSimilarityGradient.TryCreate(this, miner, maxRows, embeddingWidth, out whyNot);

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

    /// <summary>The terms of each query over the pairs (query i, reference j) in the masks; called in the caller's dispose scope, which it leaves.</summary>
    private IReadOnlyList<LossTerms> Terms(Tensor queries, Tensor references, Tensor positive, Tensor negative)
    {
        var similarity = Similarity.ComputeMatrix(queries, references);
        var shifted = similarity - Lambda;
        var pull = Term(shifted * -Alpha, positive) / Alpha;
        var push = Term(shifted * Beta, negative) / Beta;
        return LossTerms.MoveToOuterDisposeScope(new LossTerms("anchors", LossTermKind.Element, pull + push));
    }

    /// <summary><c>log(1 + Σ_{k in mask} e^{x_ik})</c> per row, as a log-sum-exp over the masked row and a 0.</summary>
    private static Tensor Term(Tensor exponents, Tensor mask)
    {
        var masked = exponents.masked_fill(mask.logical_not(), double.NegativeInfinity);
        var withOne = cat(new[] { masked, zeros(masked.shape[0], 1, dtype: masked.dtype, device: masked.device) }, 1);
        return withOne.logsumexp(1);
    }
}
