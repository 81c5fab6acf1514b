using System;
using System.Collections.Generic;
using MetricLearning.Reducers;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// Supervised contrastive loss (Khosla et al., NeurIPS 2020) on a <b>similarity</b> S (cosine by default) with
/// temperature τ: <c>L = mean_i −(1/|P_i|) Σ_{p∈P_i} log( e^{S_ip/τ} / Σ_{a≠i} e^{S_ia/τ} )</c>, over the anchors i
/// that have at least one other sample of their class (P_i). With mined indices, P_i are the mined same-class pairs
/// anchored at i and the sum over a runs over the mined pairs (of either kind) anchored at i. A batch with no
/// different-class pair (a single class), or mined indices without one, has loss 0, as pytorch-metric-learning's.
/// </summary>
/// <remarks>
/// When every class in the batch has exactly two samples (two views of one item), this is the NT-Xent loss of
/// SimCLR; <see cref="NTXentLoss"/> is pytorch-metric-learning's form of it for any batch, a term per same-class pair.
/// Default τ = 0.1. Computed with log-sum-exp for stability. Stateless and thread-safe.
/// <para>
/// One sub-loss, "anchors" (<see cref="LossTermKind.Element"/>, the anchors with a positive counting), reduced by
/// <see cref="BatchLoss.Reducer"/> (<see cref="MeanReducer"/> by default). pytorch-metric-learning's default is
/// <see cref="AvgNonZeroReducer"/>, which differs only when an anchor's value is exactly 0 (an anchor whose only pair
/// is its positive).
/// </para>
/// </remarks>
public sealed class SupConLoss : BatchLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="temperature">τ; positive and finite. Smaller values sharpen the softmax.</param>
    /// <param name="similarity">A similarity (<see cref="IDistance.IsSimilarity"/> true); null for cosine similarity.</param>
    /// <param name="reducer">How the anchors' values become the loss; null for <see cref="MeanReducer"/>.</param>
    /// <exception cref="ArgumentException">The temperature is out of range, or <paramref name="similarity"/> is a distance.</exception>
    public SupConLoss(double temperature = 0.1, IDistance? similarity = null, IReducer? reducer = null)
        : base(reducer ?? new MeanReducer())
    {
        if (!double.IsFinite(temperature) || temperature <= 0)
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be positive and finite.");
        Similarity = similarity ?? new Distances.CosineSimilarity();
        if (!Similarity.IsSimilarity)
            throw new ArgumentException($"The supervised contrastive loss needs a similarity; {Similarity.GetType().Name} is a distance.", nameof(similarity));
        Temperature = temperature;
    }

    /// <summary>τ, the temperature.</summary>
    public double Temperature { get; }

    /// <summary>The similarity the loss is computed on.</summary>
    public IDistance Similarity { get; }

    /// <inheritdoc />
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        using var scope = NewDisposeScope();
        var (positive, negative) = BatchPairMasks.Create(embeddings, labels, mined);
        var logits = Similarity.ComputeMatrix(embeddings, embeddings) / Temperature;
        // Without a miner the pairs of either kind are every a ≠ i.
        var outside = positive.logical_or(negative).logical_not();
        var denominator = logits.masked_fill(outside, double.NegativeInfinity).logsumexp(1, keepdim: true);
        // An anchor with no pair at all has −∞ there; its weights are 0, so keep its terms finite.
        var logProbability = (logits - denominator).masked_fill(outside, 0);
        var weights = positive.to_type(logProbability.dtype);
        var positives = weights.sum(1);
        var perAnchor = (logProbability * weights).sum(1) / positives.clamp_min(1);
        // A batch without both kinds of pair (one class, or a miner that kept no negatives) has nothing to contrast:
        // its loss is 0, as pytorch-metric-learning's. A factor rather than a branch, so no value is read from the device.
        var contrasted = positive.any().logical_and(negative.any()).to_type(perAnchor.dtype);
        return LossTerms.MoveToOuterDisposeScope(
            new LossTerms("anchors", LossTermKind.Element, -perAnchor * contrasted, valid: positives.gt(0)));
    }
}
