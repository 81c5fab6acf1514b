using System;
using MetricLearning.Distances;
using static TorchSharp.torch;

namespace MetricLearning.Mining;

/// <summary>
/// Pair-margin mining: the same-class pairs that are farther apart than the positive margin and the different-class
/// pairs that are closer than the negative margin, i.e. the pairs a contrastive loss with those margins would still
/// pay for. For a similarity: same-class pairs less similar than the positive margin, different-class pairs more
/// similar than the negative margin.
/// </summary>
/// <remarks>
/// Defaults 0.2 and 0.8 on the Euclidean distance of L2-normalised embeddings, as pytorch-metric-learning's
/// <c>PairMarginMiner</c>. Both ordered pairs (i, j) and (j, i) are mined. Stateless and thread-safe.
/// </remarks>
public sealed class PairMarginMiner : IMiner, IReferenceMiner
{
    /// <summary>Creates the miner.</summary>
    /// <param name="positiveMargin">Same-class pairs beyond it (less similar than it) are mined; finite.</param>
    /// <param name="negativeMargin">Different-class pairs within it (more similar than it) are mined; finite.</param>
    /// <param name="distance">How embeddings are compared (a distance or a similarity); null for the Euclidean distance of L2-normalised embeddings.</param>
    /// <exception cref="ArgumentOutOfRangeException">A margin is not finite.</exception>
    public PairMarginMiner(double positiveMargin = 0.2, double negativeMargin = 0.8, IDistance? distance = null)
    {
        if (!double.IsFinite(positiveMargin))
            throw new ArgumentOutOfRangeException(nameof(positiveMargin), positiveMargin, "The positive margin must be finite.");
        if (!double.IsFinite(negativeMargin))
            throw new ArgumentOutOfRangeException(nameof(negativeMargin), negativeMargin, "The negative margin must be finite.");
        PositiveMargin = positiveMargin;
        NegativeMargin = negativeMargin;
        Distance = distance ?? new LpDistance(2, normalize: true);
    }

    /// <summary>Same-class pairs beyond this distance (below this similarity) are mined.</summary>
    public double PositiveMargin { get; }

    /// <summary>Different-class pairs within this distance (above this similarity) are mined.</summary>
    public double NegativeMargin { get; }

    /// <summary>How embeddings are compared.</summary>
    public IDistance Distance { get; }

    /// <inheritdoc />
    public MinedIndices Mine(Tensor embeddings, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (farness, positive, negative) = Farness.Compute(Distance, embeddings, labels);
        var (keepPositive, keepNegative) = Select(farness, positive, negative);
        return MinedPairs.FromMasks(keepPositive, keepNegative);
    }

    /// <inheritdoc />
    (Tensor Positive, Tensor Negative) IReferenceMiner.Mine(Tensor queries, Tensor references, Tensor positive, Tensor negative)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (keepPositive, keepNegative) = Select(Farness.Matrix(Distance, queries, references), positive, negative);
        return (keepPositive.MoveToOuterDisposeScope(), keepNegative.MoveToOuterDisposeScope());
    }

    private (Tensor Positive, Tensor Negative) Select(Tensor farness, Tensor positive, Tensor negative)
    {
        // Farness is the negated similarity, so the similarity margins are negated too.
        double sign = Distance.IsSimilarity ? -1 : 1;
        return (positive.logical_and(farness.gt(sign * PositiveMargin)), negative.logical_and(farness.lt(sign * NegativeMargin)));
    }
}
