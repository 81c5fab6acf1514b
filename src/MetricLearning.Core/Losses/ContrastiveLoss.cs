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
/// <para>
/// Hand-written gradient (<see cref="IFusedPairLoss"/>): at the <see cref="Distances.EuclideanDistance"/>, the loss
/// and its derivative with respect to both embeddings are written out in closed form
/// (<c>∂L/∂a = 2/N · (y·d + (1 − y)·min(d − m, 0)) · (a − b)/‖a − b‖</c>, zero below the distance's floor, and
/// <c>∂L/∂b = −∂L/∂a</c>), so that a network with a hand-written pass trains without autograd.
/// </para>
/// <para>Stateless and thread-safe.</para>
/// </remarks>
public sealed class ContrastiveLoss : IFusedPairLoss
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

    /// <summary>The closed-form gradient at the <see cref="Distances.EuclideanDistance"/>; null, with the reason, at any other distance.</summary>
    /// <param name="distance">The Siamese model's distance.</param>
    /// <param name="maxPairs">The most pairs one step has.</param>
    /// <param name="embeddingWidth">The width of the embeddings.</param>
    /// <param name="whyNot">Why it does not apply; null when it does.</param>
    public IFusedPairGradient? CreateFusedGradient(IDistance distance, int maxPairs, int embeddingWidth, out string? whyNot)
    {
        ArgumentNullException.ThrowIfNull(distance);
        whyNot = distance is Distances.EuclideanDistance ? null : $"the distance is a {distance.GetType().Name}, not a {nameof(Distances.EuclideanDistance)}";
        return distance is Distances.EuclideanDistance euclidean ? new FusedContrastiveGradient(this, euclidean) : null;
    }

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
