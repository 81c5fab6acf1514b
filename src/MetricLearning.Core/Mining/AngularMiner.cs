using System;
using static TorchSharp.torch;

namespace MetricLearning.Mining;

/// <summary>
/// Angular mining (Wang, Zhou, Wen, Liu and Lin, Deep Metric Learning with Angular Loss, ICCV 2017): of every triplet
/// (a, p, n) of the batch, the ones whose angle at the negative, measured as the angular loss does,
/// <c>tan θ = ‖x_a − x_p‖ / (2 ‖x_n − x_c‖)</c> with <c>x_c = (x_a + x_p) / 2</c>, is above the miner's angle:
/// <c>θ &gt; α</c>. These are the triplets an angular loss with angle α still pays for.
/// </summary>
/// <remarks>
/// <para>
/// Equals pytorch-metric-learning 2.8.1's <c>AngularMiner</c>. The angle is in radians here (PML's is in degrees, as
/// <see cref="Losses.ArcFaceLoss"/>'s margin is in radians where PML's is in degrees); the default, 20° =
/// <c>π / 9</c>, is PML's. As in PML (which requires its default Euclidean distance but measures these lengths with
/// that distance's pairwise form, which does not normalise), the lengths are of the embeddings as given, not
/// L2-normalised; there is no distance to choose. PML adds 10⁻⁶ to every coordinate of a difference before its norm
/// (PyTorch's <c>pairwise_distance</c>); this does not, so a triplet whose angle is within about 10⁻⁶ of α may go the
/// other way, and a triplet with x_a = x_p and x_n = x_c (angle 0 / 0) is never mined.
/// </para>
/// <para>Works on the <c>[P, N]</c> matrix of angles of the P same-class pairs against every sample. Stateless and thread-safe.</para>
/// </remarks>
public sealed class AngularMiner : IMiner
{
    /// <summary>20 degrees in radians, PML's default angle.</summary>
    private const double DefaultAngle = Math.PI / 9;

    /// <summary>Creates the miner.</summary>
    /// <param name="angle">The angle α in radians, from 0 to π / 2 (PML: 20°, here 0.349 radians).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="angle"/> is not within [0, π / 2].</exception>
    public AngularMiner(double angle = DefaultAngle)
    {
        if (!(angle >= 0 && angle <= Math.PI / 2))
            throw new ArgumentOutOfRangeException(nameof(angle), angle, "The angle is in radians and must be within [0, π / 2].");
        Angle = angle;
    }

    /// <summary>The angle α in radians: triplets with a larger angle at the negative are mined.</summary>
    public double Angle { get; }

    /// <inheritdoc />
    public MinedIndices Mine(Tensor embeddings, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        BatchPairMasks.Validate(embeddings, labels, null);
        var (positive, negative) = BatchPairMasks.FromLabels(labels);
        var x = embeddings.detach();
        var pairs = positive.nonzero();
        var anchors = pairs.select(1, 0);
        var positives = pairs.select(1, 1);
        var a = x.index_select(0, anchors);
        var p = x.index_select(0, positives);
        var anchorToPositive = (a - p).norm(1);
        var centres = (a + p) / 2;
        // [P, N]: the distance of every sample from the centre of pair k.
        var negativeToCentre = cdist(centres, x);
        var angles = (anchorToPositive.unsqueeze(1) / (negativeToCentre * 2)).atan();
        var kept = negative.index_select(0, anchors).logical_and(angles.gt(Angle)).nonzero();
        var pair = kept.select(1, 0);
        return new MinedTriplets(
            anchors.index_select(0, pair).MoveToOuterDisposeScope(),
            positives.index_select(0, pair).MoveToOuterDisposeScope(),
            kept.select(1, 1).MoveToOuterDisposeScope(),
            embeddings.shape[0],
            check: false);
    }
}
