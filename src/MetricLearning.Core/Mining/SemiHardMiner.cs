using System;
using MetricLearning.Distances;
using static TorchSharp.torch;

namespace MetricLearning.Mining;

/// <summary>
/// Semi-hard triplet mining (Schroff, Kalenichenko and Philbin, FaceNet, 2015): for each same-class pair (a, p), the
/// closest other-class sample n that is still farther from a than p is, but by less than the margin:
/// <c>d(a, p) &lt; d(a, n) &lt; d(a, p) + m</c> (for a similarity: <c>s(a, p) − m &lt; s(a, n) &lt; s(a, p)</c>).
/// Pairs with no such negative give no triplet.
/// </summary>
/// <remarks>
/// These triplets violate the margin without being the hardest of the batch, which keeps training stable from random
/// weights where batch-hard mining can collapse. Use the margin of the triplet loss. Memory grows with the number of
/// same-class pairs times the batch (about 13 MB for 10 classes of 32). Stateless and thread-safe.
/// </remarks>
public sealed class SemiHardMiner : IMiner
{
    /// <summary>Creates the miner.</summary>
    /// <param name="margin">The triplet loss's margin; positive and finite.</param>
    /// <param name="distance">How embeddings are compared (a distance or a similarity); null for the Euclidean distance of L2-normalised embeddings.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="margin"/> is not positive and finite.</exception>
    public SemiHardMiner(double margin = 0.2, IDistance? distance = null)
    {
        if (!double.IsFinite(margin) || margin <= 0)
            throw new ArgumentOutOfRangeException(nameof(margin), margin, "The semi-hard margin must be positive and finite.");
        Margin = margin;
        Distance = distance ?? new LpDistance(2, normalize: true);
    }

    /// <summary>How much farther than the positive a negative may be and still be mined.</summary>
    public double Margin { get; }

    /// <summary>How embeddings are compared.</summary>
    public IDistance Distance { get; }

    /// <inheritdoc />
    public MinedIndices Mine(Tensor embeddings, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (farness, positive, negative) = Farness.Compute(Distance, embeddings, labels);
        var pairs = positive.nonzero();
        var anchors = pairs.select(1, 0);
        var positives = pairs.select(1, 1);
        var anchorRows = farness.index_select(0, anchors);
        var toPositive = anchorRows.gather(1, positives.unsqueeze(1));
        var semiHard = negative.index_select(0, anchors)
            .logical_and(anchorRows.gt(toPositive))
            .logical_and(anchorRows.lt(toPositive + Margin));
        var closest = anchorRows.masked_fill(semiHard.logical_not(), double.PositiveInfinity).argmin(1);
        var kept = semiHard.any(1).nonzero().squeeze(1);
        return new MinedTriplets(
            anchors.index_select(0, kept).MoveToOuterDisposeScope(),
            positives.index_select(0, kept).MoveToOuterDisposeScope(),
            closest.index_select(0, kept).MoveToOuterDisposeScope(),
            embeddings.shape[0],
            check: false);
    }
}
