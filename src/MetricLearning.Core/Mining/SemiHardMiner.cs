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
/// weights where batch-hard mining can collapse. Use the margin of the triplet loss. Works on <c>[N, N]</c> matrices
/// (a sort and a binary search per anchor). Stateless and thread-safe.
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
        long n = farness.shape[1];
        // Each anchor's negatives sorted nearest first (other samples sort last, as +∞). For every pair (a, p) the
        // first negative strictly farther than p is then a binary search in a's row: O(N² log N), not O(P·N).
        var (sorted, order) = farness.masked_fill(negative.logical_not(), double.PositiveInfinity).sort(1);
        var position = searchsorted(sorted, farness, right: true);
        var inRow = position.clamp_max(n - 1);
        var candidate = sorted.gather(1, inRow);
        var semiHard = positive.logical_and(position.lt(n)).logical_and(candidate.lt(farness + Margin));
        var pairs = semiHard.nonzero();
        return new MinedTriplets(
            pairs.select(1, 0).MoveToOuterDisposeScope(),
            pairs.select(1, 1).MoveToOuterDisposeScope(),
            order.gather(1, inRow).masked_select(semiHard).MoveToOuterDisposeScope(),
            embeddings.shape[0],
            check: false);
    }
}
