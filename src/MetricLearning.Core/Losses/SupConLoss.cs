using System;
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
/// SimCLR. Default τ = 0.1. Computed with log-sum-exp for stability. Stateless and thread-safe.
/// </remarks>
public sealed class SupConLoss : IBatchLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="temperature">τ; positive and finite. Smaller values sharpen the softmax.</param>
    /// <param name="similarity">A similarity (<see cref="IDistance.IsSimilarity"/> true); null for cosine similarity.</param>
    /// <exception cref="ArgumentException">The temperature is out of range, or <paramref name="similarity"/> is a distance.</exception>
    public SupConLoss(double temperature = 0.1, IDistance? similarity = null)
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
    public Tensor Compute(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
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
        var anchors = positives.gt(0).to_type(logProbability.dtype);
        var perAnchor = (logProbability * weights).sum(1) / positives.clamp_min(1);
        var loss = -(perAnchor * anchors).sum() / anchors.sum().clamp_min(1);
        // A batch without both kinds of pair (one class, or a miner that kept no negatives) has nothing to contrast:
        // its loss is 0, as pytorch-metric-learning's. A factor rather than a branch, so no value is read from the device.
        var contrasted = positive.any().logical_and(negative.any()).to_type(loss.dtype);
        return (loss * contrasted).MoveToOuterDisposeScope();
    }
}
