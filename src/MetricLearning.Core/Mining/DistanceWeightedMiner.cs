using System.Collections.Generic;
using System;
using MetricLearning.Distances;
using static TorchSharp.torch;

namespace MetricLearning.Mining;

/// <summary>
/// Distance-weighted sampling (Wu, Manmatha, Smola and Krähenbühl, Sampling Matters in Deep Embedding Learning, ICCV
/// 2017): triplets whose negative is drawn with probability inversely proportional to how often a distance occurs
/// between points spread uniformly on the unit sphere, so that negatives at every distance are drawn, not mostly the
/// many at about √2. For an anchor a and a candidate negative n at distance <c>d = max(‖x̂_a − x̂_n‖, cutoff)</c> on
/// L2-normalised embeddings of dimension D, the weight is
/// <c>w ∝ d^(2 − D) · (1 − d²/4)^(−(D − 3)/2)</c>, and 0 for negatives at <c>d ≥ nonzeroLossCutoff</c>.
/// </summary>
/// <remarks>
/// <para>
/// Equals pytorch-metric-learning 2.8.1's <c>DistanceWeightedMiner</c>, with its defaults cutoff 0.5 and
/// nonzero-loss cutoff 1.4, on its required distance, the Euclidean distance of L2-normalised embeddings (there is
/// no distance to choose). Like PML, each anchor that has a same-class sample and a negative of non-zero weight
/// gives as many triplets as its class has samples in the batch; each draws a positive uniformly from the anchor's
/// other same-class samples and a negative from the weights, both with replacement.
/// </para>
/// <para>
/// Difference from PML, equal in exact arithmetic: PML scales all weights by one batch-wide maximum before
/// exponentiating, so in float32 an anchor whose negatives are all far can have every weight underflow to 0 and give
/// no triplet; here each anchor's weights are scaled by its own maximum.
/// </para>
/// <para>
/// Random: the draws come from a torch generator of the miner's own (on the CPU, so the same seed draws the same on
/// every device), seeded from the seed; <see cref="BeginEpoch"/> reseeds it from (seed, epoch), so that a run and a
/// resumed run draw the same from that epoch on. Not thread-safe in what it draws: concurrent calls do not corrupt
/// the generator, but their draws then depend on their order. Reads the number of triplets back to the host.
/// </para>
/// </remarks>
public sealed class DistanceWeightedMiner : IMiner, IEpochAware, ITrainingState
{
    private static readonly LpDistance NormalizedEuclidean = new(2, normalize: true);
    private readonly SeededDraws _draws;

    /// <summary>Creates the miner.</summary>
    /// <param name="cutoff">Distances below it count as it, to keep the weights of very close negatives bounded; within [0, 2).</param>
    /// <param name="nonzeroLossCutoff">Negatives at this distance or beyond are never drawn; finite and above <paramref name="cutoff"/>.</param>
    /// <param name="seed">Seeds the miner's generator, with the epoch once <see cref="BeginEpoch"/> is called.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cutoff"/> is not within [0, 2), or <paramref name="nonzeroLossCutoff"/> is not finite or not above <paramref name="cutoff"/>.</exception>
    public DistanceWeightedMiner(double cutoff = 0.5, double nonzeroLossCutoff = 1.4, long seed = 0)
    {
        if (!(cutoff >= 0 && cutoff < 2))
            throw new ArgumentOutOfRangeException(nameof(cutoff), cutoff, "The cutoff is a distance between unit vectors and must be within [0, 2).");
        if (!double.IsFinite(nonzeroLossCutoff) || nonzeroLossCutoff <= cutoff)
            throw new ArgumentOutOfRangeException(nameof(nonzeroLossCutoff), nonzeroLossCutoff,
                $"The nonzero-loss cutoff must be finite and above the cutoff ({cutoff}); otherwise no negative can be drawn.");
        Cutoff = cutoff;
        NonzeroLossCutoff = nonzeroLossCutoff;
        _draws = new SeededDraws(seed);
    }

    /// <summary>Distances below it count as it.</summary>
    public double Cutoff { get; }

    /// <summary>Negatives at this distance or beyond are never drawn.</summary>
    public double NonzeroLossCutoff { get; }

    /// <summary>The seed the miner's draws start from.</summary>
    public long Seed => _draws.Seed;

    /// <summary>Reseeds the miner's generator from (<see cref="Seed"/>, <paramref name="epoch"/>).</summary>
    /// <param name="epoch">The epoch about to run, from 1.</param>
    public void BeginEpoch(int epoch) => _draws.BeginEpoch(epoch);

    /// <summary>The generator's state and the epoch it was seeded for, saved in checkpoints so that a resumed run draws what the uninterrupted one drew.</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>> TrainingState => _draws.State;

    /// <inheritdoc />
    public MinedIndices Mine(Tensor embeddings, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (weights, positive) = Weights(embeddings, labels);
        // Each anchor with a positive and a drawable negative gives as many triplets as its class has samples.
        var classSize = positive.sum(1, type: ScalarType.Int64) + 1;
        var anchors = positive.any(1).logical_and(weights.sum(1).gt(0)).nonzero().squeeze(1);
        if (anchors.shape[0] == 0)
            return new MinedTriplets(anchors.MoveToOuterDisposeScope(), anchors.clone().MoveToOuterDisposeScope(), anchors.clone().MoveToOuterDisposeScope(), embeddings.shape[0], check: false);
        // One draw of as many as the largest class gives per anchor, of which each anchor keeps its own count: a
        // draw per anchor rather than per triplet (the rows of a draw are what costs).
        var counts = classSize.index_select(0, anchors);
        long most = counts.max().item<long>();
        var keep = arange(most, device: counts.device).unsqueeze(0).lt(counts.unsqueeze(1));
        var rows = anchors.unsqueeze(1).expand(anchors.shape[0], most).masked_select(keep);
        var positives = _draws.Multinomial(positive.index_select(0, anchors), most).masked_select(keep);
        var negatives = _draws.Multinomial(weights.index_select(0, anchors), most).masked_select(keep);
        return new MinedTriplets(
            rows.MoveToOuterDisposeScope(),
            positives.MoveToOuterDisposeScope(),
            negatives.MoveToOuterDisposeScope(),
            embeddings.shape[0],
            check: false);
    }

    /// <summary>
    /// The probability of drawing each negative for each anchor, <c>[N, N]</c> in the embeddings' dtype: every row sums
    /// to 1, or is all zeros when the anchor has no negative it can draw. In the caller's dispose scope.
    /// </summary>
    internal Tensor SamplingWeights(Tensor embeddings, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return Weights(embeddings, labels).Weights.MoveToOuterDisposeScope();
    }

    private (Tensor Weights, Tensor Positive) Weights(Tensor embeddings, Tensor labels)
    {
        var (distances, positive, negative) = Farness.Compute(NormalizedEuclidean, embeddings, labels);
        double dimension = embeddings.shape[1];
        var d = distances.clamp_min(Cutoff);
        // log w = (2 − D) log d − ((D − 3) / 2) log(1 − d²/4); infinite or NaN at d ≥ 2, where no negative is drawn.
        var logWeights = d.log() * (2 - dimension) - (1 - d.square() * 0.25).log() * ((dimension - 3) / 2);
        var drawable = negative.logical_and(logWeights.isfinite()).logical_and(d.lt(NonzeroLossCutoff));
        var masked = logWeights.masked_fill(drawable.logical_not(), double.NegativeInfinity);
        // Each row scaled by its own largest weight (0 for a row with none, which stays all zeros).
        var rowMax = masked.amax(new long[] { 1 }, keepdim: true);
        var weights = (masked - rowMax.masked_fill(rowMax.isinf(), 0)).exp();
        var total = weights.sum(1, keepdim: true);
        return (weights / total.masked_fill(total.eq(0), 1), positive);
    }
}
