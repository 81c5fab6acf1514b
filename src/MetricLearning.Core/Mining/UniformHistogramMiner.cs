using System.Collections.Generic;
using System;
using MetricLearning.Distances;
using static TorchSharp.torch;

namespace MetricLearning.Mining;

/// <summary>
/// Uniform-histogram mining: the same-class pairs of the batch are put in <see cref="Bins"/> equal-width bins of
/// distance between their smallest and largest distance, and <see cref="PositivesPerBin"/> pairs are drawn, uniformly
/// and with replacement, from every non-empty bin; likewise the different-class pairs, <see cref="NegativesPerBin"/>
/// per bin. The mined pairs then cover the whole range of distances evenly, however the batch's distances are spread.
/// </summary>
/// <remarks>
/// <para>
/// Equals pytorch-metric-learning 2.8.1's <c>UniformHistogramMiner</c>, with its defaults: 100 bins, 10 pairs per bin
/// of each kind, the Euclidean distance of L2-normalised embeddings. Bin i holds the pairs with
/// <c>e_i ≤ d &lt; e_(i+1)</c> (the last bin includes its upper edge), its edges from <c>linspace(min, max, bins + 1)</c>;
/// for a similarity, the same on the similarities. Both ordered pairs (i, j) and (j, i) are candidates. A kind with no
/// pair gives none. Returns <see cref="MinedPairs"/>, bin by bin.
/// </para>
/// <para>
/// Random: the draws come from a torch generator of the miner's own (on the CPU, so the same seed draws the same on
/// every device), seeded from the seed; <see cref="BeginEpoch"/> reseeds it from (seed, epoch), so that a run and a
/// resumed run draw the same from that epoch on. Not thread-safe in what it draws: concurrent calls do not corrupt
/// the generator, but their draws then depend on their order. Reads the smallest and largest distance back to the host.
/// </para>
/// </remarks>
public sealed class UniformHistogramMiner : IMiner, IEpochAware, ITrainingState
{
    private readonly SeededDraws _draws;

    /// <summary>Creates the miner.</summary>
    /// <param name="bins">How many equal-width bins of distance; at least 1.</param>
    /// <param name="positivesPerBin">How many same-class pairs are drawn from each non-empty bin; at least 1.</param>
    /// <param name="negativesPerBin">How many different-class pairs are drawn from each non-empty bin; at least 1.</param>
    /// <param name="distance">How embeddings are compared (a distance or a similarity); null for the Euclidean distance of L2-normalised embeddings, PML's default.</param>
    /// <param name="seed">Seeds the miner's generator, with the epoch once <see cref="BeginEpoch"/> is called.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is below 1.</exception>
    public UniformHistogramMiner(int bins = 100, int positivesPerBin = 10, int negativesPerBin = 10, IDistance? distance = null, long seed = 0)
    {
        if (bins < 1)
            throw new ArgumentOutOfRangeException(nameof(bins), bins, "There must be at least one bin.");
        if (positivesPerBin < 1)
            throw new ArgumentOutOfRangeException(nameof(positivesPerBin), positivesPerBin, "At least one pair must be drawn per bin.");
        if (negativesPerBin < 1)
            throw new ArgumentOutOfRangeException(nameof(negativesPerBin), negativesPerBin, "At least one pair must be drawn per bin.");
        Bins = bins;
        PositivesPerBin = positivesPerBin;
        NegativesPerBin = negativesPerBin;
        Distance = distance ?? new LpDistance(2, normalize: true);
        _draws = new SeededDraws(seed);
    }

    /// <summary>How many equal-width bins of distance.</summary>
    public int Bins { get; }

    /// <summary>How many same-class pairs are drawn from each non-empty bin.</summary>
    public int PositivesPerBin { get; }

    /// <summary>How many different-class pairs are drawn from each non-empty bin.</summary>
    public int NegativesPerBin { get; }

    /// <summary>How embeddings are compared.</summary>
    public IDistance Distance { get; }

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
        var ((positiveAnchors, positives, positiveBins), (negativeAnchors, negatives, negativeBins)) = Binned(embeddings, labels);
        var (a1, p) = Draw(positiveAnchors, positives, positiveBins, PositivesPerBin);
        var (a2, n) = Draw(negativeAnchors, negatives, negativeBins, NegativesPerBin);
        return new MinedPairs(
            a1.MoveToOuterDisposeScope(),
            p.MoveToOuterDisposeScope(),
            a2.MoveToOuterDisposeScope(),
            n.MoveToOuterDisposeScope(),
            embeddings.shape[0],
            check: false);
    }

    /// <summary>
    /// Every same-class and every different-class pair (row-major) with the bin it falls in, from 0, as int64
    /// vectors; the candidates the miner draws from. In the caller's dispose scope.
    /// </summary>
    internal ((Tensor Anchors, Tensor Others, Tensor Bins) Positive, (Tensor Anchors, Tensor Others, Tensor Bins) Negative) Candidates(Tensor embeddings, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ((a1, p, b1), (a2, n, b2)) = Binned(embeddings, labels);
        return ((a1.MoveToOuterDisposeScope(), p.MoveToOuterDisposeScope(), b1.MoveToOuterDisposeScope()),
            (a2.MoveToOuterDisposeScope(), n.MoveToOuterDisposeScope(), b2.MoveToOuterDisposeScope()));
    }

    private ((Tensor, Tensor, Tensor) Positive, (Tensor, Tensor, Tensor) Negative) Binned(Tensor embeddings, Tensor labels)
    {
        var (farness, positive, negative) = Farness.Compute(Distance, embeddings, labels);
        var values = Distance.IsSimilarity ? farness.neg() : farness;
        return (Bin(values, positive), Bin(values, negative));
    }

    /// <summary>The pairs where the mask is true and the bin of each, between the smallest and largest of their values.</summary>
    private (Tensor Anchors, Tensor Others, Tensor Bins) Bin(Tensor values, Tensor mask)
    {
        var pairs = mask.nonzero();
        var anchors = pairs.select(1, 0);
        var others = pairs.select(1, 1);
        var pairValues = values.masked_select(mask);
        if (pairValues.shape[0] == 0)
            return (anchors, others, anchors.clone());
        double low = pairValues.min().to(ScalarType.Float64).item<double>();
        double high = pairValues.max().to(ScalarType.Float64).item<double>();
        var edges = linspace(low, high, Bins + 1, dtype: values.dtype, device: values.device);
        // Bin i holds e_i ≤ v < e_(i+1); the largest value falls in the last bin.
        var bins = bucketize(pairValues, edges, false, true).sub(1).clamp(0, Bins - 1);
        return (anchors, others, bins);
    }

    /// <summary><paramref name="perBin"/> pairs drawn uniformly with replacement from each non-empty bin, bin by bin.</summary>
    private (Tensor Anchors, Tensor Others) Draw(Tensor anchors, Tensor others, Tensor bins, int perBin)
    {
        if (anchors.shape[0] == 0)
            return (anchors, others);
        var members = arange(Bins, dtype: ScalarType.Int64, device: bins.device).unsqueeze(1).eq(bins.unsqueeze(0));
        var filled = members.index_select(0, members.any(1).nonzero().squeeze(1));
        var drawn = _draws.Multinomial(filled, perBin).flatten();
        return (anchors.index_select(0, drawn), others.index_select(0, drawn));
    }
}
