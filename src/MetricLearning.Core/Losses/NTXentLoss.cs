using System;
using System.Collections.Generic;
using MetricLearning.Reducers;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR (Chen, Kornblith, Norouzi and Hinton, ICML
/// 2020), as a pair loss: each same-class pair (a, p) costs
/// <c>ℓ(a, p) = −log( e^{S_ap/τ} / (e^{S_ap/τ} + Σ_{n∈N_a} e^{S_an/τ}) )</c>, where N_a are the samples of other
/// classes (or the mined different-class pairs anchored at a) and S the similarity (a distance is negated). A pair
/// whose anchor has no negative costs 0.
/// </summary>
/// <remarks>
/// <para>
/// Equals pytorch-metric-learning's <c>NTXentLoss</c>, with its defaults: τ = 0.07 on the cosine similarity, the
/// mean over the same-class pairs. With two views per item in the batch this is SimCLR's loss; unlike
/// <see cref="SupConLoss"/>, every positive pair is its own term and the other positives of the anchor are not in the
/// denominator.
/// </para>
/// <para>
/// One sub-loss, "positive pairs" (<see cref="LossTermKind.PositivePair"/>, an <c>[N, N]</c> matrix whose same-class
/// pairs count), reduced by <see cref="BatchLoss.Reducer"/> (<see cref="MeanReducer"/> by default, as
/// pytorch-metric-learning's). Accepts mined pairs or triplets. Stateless and thread-safe.
/// </para>
/// </remarks>
public sealed class NTXentLoss : BatchLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="temperature">τ; positive and finite.</param>
    /// <param name="distance">How embeddings are compared (a distance is negated); null for the cosine similarity.</param>
    /// <param name="reducer">How the pairs' values become the loss; null for <see cref="MeanReducer"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="temperature"/> is not positive and finite.</exception>
    public NTXentLoss(double temperature = 0.07, IDistance? distance = null, IReducer? reducer = null)
        : base(reducer ?? new MeanReducer())
    {
        if (!double.IsFinite(temperature) || temperature <= 0)
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be positive and finite.");
        Temperature = temperature;
        Distance = distance ?? new Distances.CosineSimilarity();
    }

    /// <summary>τ, the temperature.</summary>
    public double Temperature { get; }

    /// <summary>How embeddings are compared.</summary>
    public IDistance Distance { get; }

    /// <inheritdoc />
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        using var scope = NewDisposeScope();
        var (positive, negative) = BatchPairMasks.Create(embeddings, labels, mined);
        var matrix = Distance.ComputeMatrix(embeddings, embeddings);
        var logits = (Distance.IsSimilarity ? matrix : -matrix) / Temperature;
        // log(e^{x_ap} + Σ_n e^{x_an}) − x_ap = softplus(log Σ_n e^{x_an} − x_ap); no negatives: softplus(−∞) = 0.
        var negatives = PairLossMath.MaskedLogSumExp(logits, negative, double.NegativeInfinity);
        var values = nn.functional.softplus(negatives.unsqueeze(1) - logits);
        var anchors = BatchPairMasks.Rows(embeddings.shape[0], embeddings.device);
        return LossTerms.MoveToOuterDisposeScope(new LossTerms("positive pairs", LossTermKind.PositivePair, values, anchors, positive));
    }
}
