using System;
using System.Collections.Generic;
using MetricLearning.Reducers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// ArcFace, the additive angular margin loss (Deng, Guo, Xue and Zafeiriou, CVPR 2019): a softmax classifier over
/// learnt class centres W, where the logit of class j for embedding x is <c>s·cos θ_j</c>, θ_j the angle between x
/// and W_j, and the true class y's angle is widened by the margin m: <c>s·cos(θ_y + m)</c>;
/// <c>L = mean_i −log( e^{s·cos(θ_{y_i} + m)} / (e^{s·cos(θ_{y_i} + m)} + Σ_{j≠y_i} e^{s·cos θ_j}) )</c>.
/// </summary>
/// <remarks>
/// <para>
/// Defaults m = 0.5 rad and s = 64 (the paper's). The class centres are this loss's own weights
/// (<see cref="ITrainableParameters"/>), trained with the network at the same pace by default. Labels must be class numbers
/// from 0 to <see cref="Classes"/> − 1 (checked each call, which reads the labels' range from the device). θ is taken
/// from a cosine clamped to [−1 + 1e-7, 1 − 1e-7] so that its gradient stays finite. Past θ = π − m, where
/// cos(θ + m) would rise again, the true class's logit is <c>s·(cos θ − m·sin m)</c> instead, which keeps it
/// decreasing in θ (the usual ArcFace extension, pytorch-metric-learning's; its margin is in degrees, 28.6 by default,
/// where ours is 0.5 rad, 28.65°).
/// </para>
/// <para>
/// A classification loss: it needs no pairs and refuses mined indices. Embeddings compared by cosine similarity
/// afterwards. Holds its centres: not thread-safe while training; dispose it to free them.
/// </para>
/// <para>One sub-loss, "samples" (<see cref="LossTermKind.Element"/>): each sample's cross-entropy, reduced by <see cref="BatchLoss.Reducer"/> (<see cref="MeanReducer"/> by default).</para>
/// </remarks>
public sealed class ArcFaceLoss : BatchLoss, ITrainableParameters, IDisposable
{
    private const double CosineLimit = 1 - 1e-7;
    private readonly Parameter _centres;

    /// <summary>Creates the loss with class centres drawn from a normal distribution (torch's generator).</summary>
    /// <param name="classes">How many classes; at least 2.</param>
    /// <param name="embeddingSize">Width of the embeddings; at least 1.</param>
    /// <param name="margin">Angular margin m in radians; in [0, π/2].</param>
    /// <param name="scale">Scale s of the logits; positive and finite.</param>
    /// <param name="learningRateScale">How much faster than the network the centres learn; positive and finite.</param>
    /// <param name="device">Where the centres live; the CPU if null. It must be the embeddings' device.</param>
    /// <param name="reducer">How the samples' values become the loss; null for <see cref="MeanReducer"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public ArcFaceLoss(int classes, long embeddingSize, double margin = 0.5, double scale = 64, double learningRateScale = 1, Device? device = null, IReducer? reducer = null)
        : base(reducer ?? new MeanReducer())
    {
        if (!double.IsFinite(margin) || margin < 0 || margin > Math.PI / 2)
            throw new ArgumentOutOfRangeException(nameof(margin), margin, "The angular margin must be between 0 and π/2 radians.");
        if (!double.IsFinite(scale) || scale <= 0)
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale must be positive and finite.");
        Classes = classes;
        Margin = margin;
        Scale = scale;
        LearningRateScale = learningRateScale;
        _centres = ClassCentres.Create(classes, embeddingSize, learningRateScale, device, "ArcFace");
    }

    /// <summary>How many classes there are.</summary>
    public int Classes { get; }

    /// <summary>Angular margin m, radians.</summary>
    public double Margin { get; }

    /// <summary>Scale s of the logits.</summary>
    public double Scale { get; }

    /// <summary>The class centres, one row per class, <c>[Classes, EmbeddingSize]</c>; trained with the network.</summary>
    public Parameter Centres => _centres;

    /// <summary>How much faster than the network the class centres learn.</summary>
    public double LearningRateScale { get; }

    /// <inheritdoc />
    public IReadOnlyList<ParameterGroup> ParameterGroups => new[] { new ParameterGroup("ArcFace class centres", new[] { _centres }, LearningRateScale) };

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Mined indices were given, the embeddings' width or device differs from the centres', or a label is outside 0 to Classes − 1.</exception>
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        if (mined is not null)
            throw new ArgumentException("ArcFace classifies each embedding against learnt class centres and takes no mined pairs or triplets; train it without a miner.", nameof(mined));
        ClassCentres.Check(embeddings, labels, _centres, Classes, "centres");

        using var scope = NewDisposeScope();
        var perSample = CrossEntropyWithMargin(ClassCentres.Cosines(embeddings, _centres), labels, Margin, Scale);
        return LossTerms.MoveToOuterDisposeScope(new LossTerms("samples", LossTermKind.Element, perSample));
    }

    /// <summary>
    /// Each sample's cross-entropy over the logits <c>s·cos θ_j</c>, its own class's widened to <c>s·cos(θ_y + m)</c>
    /// (<c>s·(cos θ_y − m·sin m)</c> past θ_y = π − m), from the cosines <c>[N, classes]</c>; call in a dispose scope.
    /// </summary>
    internal static Tensor CrossEntropyWithMargin(Tensor cosines, Tensor labels, double margin, double scale)
    {
        var cosine = cosines.clamp(-CosineLimit, CosineLimit);
        var target = labels.to_type(ScalarType.Int64).unsqueeze(1);
        var cosineOfTarget = cosine.gather(1, target);
        var angle = cosineOfTarget.acos();
        var widened = where(angle.le(Math.PI - margin), (angle + margin).cos(), cosineOfTarget - margin * Math.Sin(margin));
        var logits = cosine.scatter(1, target, widened) * scale;
        return nn.functional.cross_entropy(logits, target.squeeze(1), reduction: nn.Reduction.None);
    }

    /// <inheritdoc />
    protected override Tensor RegularizedWeights => _centres;

    /// <inheritdoc />
    public void Dispose() => _centres.Dispose();
}
