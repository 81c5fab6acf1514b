using System;
using System.Collections.Generic;
using MetricLearning.Reducers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// CosFace, the large margin cosine loss (Wang, Wang, Zhou, Ji, Gong, Zhou, Li and Liu, CVPR 2018): a softmax
/// classifier over learnt class centres W, where the logit of class j for embedding x is <c>s·cos θ_j</c>, θ_j the
/// angle between x and W_j, and the true class y's cosine is lowered by the margin m:
/// <c>L = mean_i −log( e^{s·(cos θ_{y_i} − m)} / (e^{s·(cos θ_{y_i} − m)} + Σ_{j≠y_i} e^{s·cos θ_j}) )</c>.
/// Equal to pytorch-metric-learning 2.8.1's <c>CosFaceLoss</c>.
/// </summary>
/// <remarks>
/// <para>
/// Defaults m = 0.35 and s = 64, PML's (and the paper's). The class centres are this loss's own weights
/// (<see cref="ITrainableParameters"/>), drawn from a standard normal distribution as PML draws them, and trained with
/// the network at the same pace by default (PML's documentation recommends no other learning rate). Labels must be
/// class numbers from 0 to <see cref="Classes"/> − 1 (checked each call, which reads the labels' range from the device).
/// </para>
/// <para>
/// A classification loss: it needs no pairs and refuses mined indices. Embeddings compared by cosine similarity
/// afterwards. Holds its centres: not thread-safe while training; dispose it to free them.
/// </para>
/// <para>One sub-loss, "samples" (<see cref="LossTermKind.Element"/>): each sample's cross-entropy, reduced by <see cref="BatchLoss.Reducer"/> (<see cref="MeanReducer"/> by default, PML's).</para>
/// </remarks>
public sealed class CosFaceLoss : BatchLoss, ITrainableParameters, IDisposable
{
    private readonly Parameter _centres;

    /// <summary>Creates the loss with class centres drawn from a standard normal distribution (torch's generator: seed it with <c>manual_seed</c>).</summary>
    /// <param name="classes">How many classes; at least 2.</param>
    /// <param name="embeddingSize">Width of the embeddings; at least 1.</param>
    /// <param name="margin">Cosine margin m; finite and at least 0.</param>
    /// <param name="scale">Scale s of the logits; positive and finite.</param>
    /// <param name="learningRateScale">How much faster than the network the centres learn; positive and finite.</param>
    /// <param name="device">Where the centres live; the CPU if null. It must be the embeddings' device.</param>
    /// <param name="reducer">How the samples' values become the loss; null for <see cref="MeanReducer"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public CosFaceLoss(int classes, long embeddingSize, double margin = 0.35, double scale = 64, double learningRateScale = 1, Device? device = null, IReducer? reducer = null)
        : base(reducer ?? new MeanReducer())
    {
        if (!double.IsFinite(margin) || margin < 0)
            throw new ArgumentOutOfRangeException(nameof(margin), margin, "The cosine margin must be finite and at least 0.");
        if (!double.IsFinite(scale) || scale <= 0)
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale must be positive and finite.");
        Classes = classes;
        Margin = margin;
        Scale = scale;
        LearningRateScale = learningRateScale;
        _centres = ClassCentres.Create(classes, embeddingSize, learningRateScale, device, "CosFace");
    }

    /// <summary>How many classes there are.</summary>
    public int Classes { get; }

    /// <summary>Cosine margin m.</summary>
    public double Margin { get; }

    /// <summary>Scale s of the logits.</summary>
    public double Scale { get; }

    /// <summary>The class centres, one row per class, <c>[Classes, EmbeddingSize]</c> (PML's <c>W</c> transposed); trained with the network.</summary>
    public Parameter Centres => _centres;

    /// <summary>How much faster than the network the class centres learn.</summary>
    public double LearningRateScale { get; }

    /// <inheritdoc />
    public IReadOnlyList<ParameterGroup> ParameterGroups => new[] { new ParameterGroup("CosFace class centres", new[] { _centres }, LearningRateScale) };

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Mined indices were given, the embeddings' width or device differs from the centres', or a label is outside 0 to Classes − 1.</exception>
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        if (mined is not null)
            throw new ArgumentException("CosFace classifies each embedding against learnt class centres and takes no mined pairs or triplets; train it without a miner.", nameof(mined));
        ClassCentres.Check(embeddings, labels, _centres, Classes, "centres");

        using var scope = NewDisposeScope();
        var cosine = ClassCentres.Cosines(embeddings, _centres);
        var target = labels.to_type(ScalarType.Int64);
        var margins = nn.functional.one_hot(target, Classes).to_type(cosine.dtype) * Margin;
        var perSample = nn.functional.cross_entropy((cosine - margins) * Scale, target, reduction: nn.Reduction.None);
        return LossTerms.MoveToOuterDisposeScope(new LossTerms("samples", LossTermKind.Element, perSample));
    }

    /// <inheritdoc />
    protected override Tensor RegularizedWeights => _centres;

    /// <inheritdoc />
    public void Dispose() => _centres.Dispose();
}
