using System;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// Hadsell, Chopra and LeCun's contrastive loss (CVPR 2006), averaged over the batch:
/// <c>L = mean( y·d² + (1 − y)·max(m − d, 0)² )</c>.
/// </summary>
/// <remarks>
/// <para>
/// Works on distances <c>d</c> (not squared distances, and not similarities: pair it with an <see cref="IDistance"/>
/// whose <see cref="IDistance.IsSimilarity"/> is false, such as <see cref="Distances.EuclideanDistance"/>). <c>y</c> = <b>1 for a same-class pair</b>, 0 for a
/// different-class pair (the paper uses the opposite convention). Same-class pairs are pulled together by
/// <c>d²</c>; different-class pairs are pushed apart until they are at least the margin <c>m</c> apart and cost
/// nothing beyond it.
/// </para>
/// <para>Stateless and thread-safe.</para>
/// </remarks>
public sealed class ContrastiveLoss : ILoss
{
    /// <summary>The margin of the reference experiment.</summary>
    public const double DefaultMargin = 1.0;

    /// <summary>Creates the loss.</summary>
    /// <param name="margin">Distance beyond which different-class pairs cost nothing; positive and finite.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="margin"/> is not positive and finite.</exception>
    public ContrastiveLoss(double margin = DefaultMargin)
    {
        if (!double.IsFinite(margin) || margin <= 0)
            throw new ArgumentOutOfRangeException(nameof(margin), margin, "The contrastive margin must be positive and finite.");
        Margin = margin;
        _margin = margin.ToScalar();
    }

    // Made once: a Scalar per call would hold native memory until the next garbage collection.
    private readonly Scalar _margin;
    private readonly Scalar _zero = 0.0.ToScalar();

    /// <summary>Distance beyond which different-class pairs cost nothing.</summary>
    public double Margin { get; }

    /// <inheritdoc />
    public Tensor Compute(Tensor distances, Tensor sameClass)
    {
        TensorChecks.Rank(distances, 1, nameof(distances));
        TensorChecks.Rank(sameClass, 1, nameof(sameClass));
        TensorChecks.FloatingPoint(distances, nameof(distances));
        TensorChecks.SameDevice(distances, nameof(distances), sameClass, nameof(sameClass));
        TensorChecks.SameShape(distances, nameof(distances), sameClass, nameof(sameClass));
        if (distances.shape[0] == 0)
            throw new ArgumentException("The loss of an empty batch is undefined; pass at least one pair.", nameof(distances));

        using var y = sameClass.dtype == distances.dtype ? sameClass.alias() : sameClass.to_type(distances.dtype);
        using var pull = distances.square();
        // max(m − d, 0)² == min(d − m, 0)², which needs no negation.
        using var excess = distances.sub(_margin);
        using var shortfall = excess.clamp_max(_zero);
        using var push = shortfall.square();
        // lerp(push, pull, y) = push + y·(pull − push) = y·pull + (1 − y)·push, in one operation.
        using var perPair = push.lerp(pull, y);
        return perPair.mean();
    }
}
