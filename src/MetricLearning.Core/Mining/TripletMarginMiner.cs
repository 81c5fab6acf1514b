using System;
using MetricLearning.Distances;
using static TorchSharp.torch;

namespace MetricLearning.Mining;

/// <summary>
/// Triplet-margin mining: of every triplet (a, p, n) of the batch (p of a's class, n of another), the ones whose
/// margin <c>μ = d(a, n) − d(a, p)</c> (for a similarity <c>μ = s(a, p) − s(a, n)</c>) is within the miner's margin m,
/// <c>μ ≤ m</c>, the triplets a triplet loss with margin m still pays for; or a subset of them, or the others, as
/// <see cref="Difficulty"/> says. The triplet-mining scheme of FaceNet (Schroff, Kalenichenko and Philbin, CVPR 2015)
/// made exhaustive.
/// </summary>
/// <remarks>
/// Equals pytorch-metric-learning 2.8.1's <c>TripletMarginMiner</c>, with its defaults: margin 0.2, every violating
/// triplet ("all"), the Euclidean distance of L2-normalised embeddings. Works on the <c>[P, N]</c> matrix of margins
/// of the P same-class pairs against every sample. Stateless and thread-safe.
/// </remarks>
public sealed class TripletMarginMiner : IMiner
{
    /// <summary>Creates the miner.</summary>
    /// <param name="margin">The margin m; finite.</param>
    /// <param name="difficulty">Which triplets to keep; <see cref="TripletDifficulty.All"/> keeps every one with <c>μ ≤ m</c>.</param>
    /// <param name="distance">How embeddings are compared (a distance or a similarity); null for the Euclidean distance of L2-normalised embeddings, PML's default.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="margin"/> is not finite, or <paramref name="difficulty"/> is not one of the enum's values.</exception>
    public TripletMarginMiner(double margin = 0.2, TripletDifficulty difficulty = TripletDifficulty.All, IDistance? distance = null)
    {
        if (!double.IsFinite(margin))
            throw new ArgumentOutOfRangeException(nameof(margin), margin, "The triplet margin must be finite.");
        if (!Enum.IsDefined(difficulty))
            throw new ArgumentOutOfRangeException(nameof(difficulty), difficulty, "The difficulty must be All, Hard, SemiHard or Easy.");
        Margin = margin;
        Difficulty = difficulty;
        Distance = distance ?? new LpDistance(2, normalize: true);
    }

    /// <summary>The margin m.</summary>
    public double Margin { get; }

    /// <summary>Which triplets are kept.</summary>
    public TripletDifficulty Difficulty { get; }

    /// <summary>How embeddings are compared.</summary>
    public IDistance Distance { get; }

    /// <inheritdoc />
    public MinedIndices Mine(Tensor embeddings, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (farness, positive, negative) = Farness.Compute(Distance, embeddings, labels);
        // Row k holds the margins μ = F(a, n) − F(a, p) of the same-class pair k = (a, p) against every n; on farness
        // (the distance, or the negated similarity) this is PML's margin either way.
        var pairs = positive.nonzero();
        var anchors = pairs.select(1, 0);
        var positives = pairs.select(1, 1);
        var rows = farness.index_select(0, anchors);
        var margins = rows - rows.gather(1, positives.unsqueeze(1));
        var keep = negative.index_select(0, anchors).logical_and(Difficulty switch
        {
            TripletDifficulty.Easy => margins.gt(Margin),
            TripletDifficulty.Hard => margins.le(Margin).logical_and(margins.le(0)),
            TripletDifficulty.SemiHard => margins.le(Margin).logical_and(margins.gt(0)),
            _ => margins.le(Margin),
        });
        var kept = keep.nonzero();
        var pair = kept.select(1, 0);
        return new MinedTriplets(
            anchors.index_select(0, pair).MoveToOuterDisposeScope(),
            positives.index_select(0, pair).MoveToOuterDisposeScope(),
            kept.select(1, 1).MoveToOuterDisposeScope(),
            embeddings.shape[0],
            check: false);
    }
}
