using System;
using MetricLearning.Distances;
using static TorchSharp.torch;

namespace MetricLearning.Mining;

/// <summary>
/// The pair mining of the multi-similarity paper (Wang et al., CVPR 2019): a same-class pair (a, p) is kept when it is
/// less similar than a's most similar other-class sample plus ε, <c>S_ap − ε &lt; max_n S_an</c>, and a
/// different-class pair (a, n) when it is more similar than a's least similar same-class sample minus ε,
/// <c>S_an + ε &gt; min_p S_ap</c>. For a distance the comparisons turn around.
/// </summary>
/// <remarks>
/// Default ε = 0.1 on cosine similarity, as pytorch-metric-learning's <c>MultiSimilarityMiner</c>. Pair it with
/// <see cref="Losses.MultiSimilarityLoss"/>. Stateless and thread-safe.
/// </remarks>
public sealed class MultiSimilarityMiner : IMultiSimilarityMiner, IReferenceMiner
{
    /// <summary>Creates the miner.</summary>
    /// <param name="epsilon">How far beyond the hardest pair of the other kind a pair may be and still be mined; at least 0 and finite.</param>
    /// <param name="distance">How embeddings are compared (a distance or a similarity); null for cosine similarity.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epsilon"/> is negative or not finite.</exception>
    public MultiSimilarityMiner(double epsilon = 0.1, IDistance? distance = null)
    {
        if (!double.IsFinite(epsilon) || epsilon < 0)
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Epsilon must be finite and at least 0.");
        Epsilon = epsilon;
        Distance = distance ?? new CosineSimilarity();
    }

    /// <summary>The slack ε.</summary>
    public double Epsilon { get; }

    /// <summary>How embeddings are compared.</summary>
    public IDistance Distance { get; }

    /// <inheritdoc />
    public MinedIndices Mine(Tensor embeddings, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // On farness (larger is farther) the rules read: keep (a, p) if F_ap + ε > min_n F_an and
        // keep (a, n) if F_an − ε < max_p F_ap.
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
        var closestNegative = farness.masked_fill(negative.logical_not(), double.PositiveInfinity).amin(new long[] { 1 }, keepdim: true);
        var farthestPositive = farness.masked_fill(positive.logical_not(), double.NegativeInfinity).amax(new long[] { 1 }, keepdim: true);
        return (positive.logical_and((farness + Epsilon).gt(closestNegative)), negative.logical_and((farness - Epsilon).lt(farthestPositive)));
    }
}
