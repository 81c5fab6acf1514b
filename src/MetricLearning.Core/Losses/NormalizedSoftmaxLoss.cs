using System;
using System.Collections.Generic;
using MetricLearning.Reducers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// Normalized softmax loss (Zhai and Wu, "Classification is a Strong Baseline for Deep Metric Learning", BMVC 2019): a
/// softmax classifier over learnt class vectors W with both the embeddings and the class vectors L2-normalised and a
/// temperature T: <c>L = mean_i −log( e^{cos(x_i, W_{y_i})/T} / Σ_j e^{cos(x_i, W_j)/T} )</c>.
/// Equal to pytorch-metric-learning 2.8.1's <c>NormalizedSoftmaxLoss</c> with its default distance
/// (<c>DotProductSimilarity</c> of L2-normalised embeddings, so the cosine).
/// </summary>
/// <remarks>
/// <para>
/// Default T = 0.05, PML's (the paper's). The class vectors are this loss's own weights
/// (<see cref="ITrainableParameters"/>), drawn from a standard normal distribution as PML draws them, and trained with
/// the network at the same pace by default (PML's documentation recommends no other learning rate). Labels must be
/// class numbers from 0 to <see cref="Classes"/> − 1 (checked each call, which reads the labels' range from the device).
/// </para>
/// <para>
/// A classification loss: it needs no pairs and refuses mined indices. Embeddings compared by cosine similarity
/// afterwards. Holds its class vectors: not thread-safe while training; dispose it to free them.
/// </para>
/// <para>One sub-loss, "samples" (<see cref="LossTermKind.Element"/>): each sample's cross-entropy, reduced by <see cref="BatchLoss.Reducer"/> (<see cref="MeanReducer"/> by default, PML's).</para>
/// </remarks>
public sealed class NormalizedSoftmaxLoss : BatchLoss, ITrainableParameters, IDisposable
{
    private readonly Parameter _centres;

    /// <summary>Creates the loss with class vectors drawn from a standard normal distribution (torch's generator: seed it with <c>manual_seed</c>).</summary>
    /// <param name="classes">How many classes; at least 2.</param>
    /// <param name="embeddingSize">Width of the embeddings; at least 1.</param>
    /// <param name="temperature">Temperature T that divides the cosines; positive and finite.</param>
    /// <param name="learningRateScale">How much faster than the network the class vectors learn; positive and finite.</param>
    /// <param name="device">Where the class vectors live; the CPU if null. It must be the embeddings' device.</param>
    /// <param name="reducer">How the samples' values become the loss; null for <see cref="MeanReducer"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public NormalizedSoftmaxLoss(int classes, long embeddingSize, double temperature = 0.05, double learningRateScale = 1, Device? device = null, IReducer? reducer = null)
        : base(reducer ?? new MeanReducer())
    {
        if (!double.IsFinite(temperature) || temperature <= 0)
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be positive and finite.");
        Classes = classes;
        Temperature = temperature;
        LearningRateScale = learningRateScale;
        _centres = ClassCentres.Create(classes, embeddingSize, learningRateScale, device, "normalized softmax");
    }

    /// <summary>How many classes there are.</summary>
    public int Classes { get; }

    /// <summary>Temperature T.</summary>
    public double Temperature { get; }

    /// <summary>The class vectors, one row per class, <c>[Classes, EmbeddingSize]</c> (PML's <c>W</c> transposed); trained with the network.</summary>
    public Parameter Centres => _centres;

    /// <summary>How much faster than the network the class vectors learn.</summary>
    public double LearningRateScale { get; }

    /// <inheritdoc />
    public IReadOnlyList<ParameterGroup> ParameterGroups => new[] { new ParameterGroup("normalized softmax class vectors", new[] { _centres }, LearningRateScale) };

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Mined indices were given, the embeddings' width or device differs from the class vectors', or a label is outside 0 to Classes − 1.</exception>
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        if (mined is not null)
            throw new ArgumentException("The normalized softmax loss classifies each embedding against learnt class vectors and takes no mined pairs or triplets; train it without a miner.", nameof(mined));
        ClassCentres.Check(embeddings, labels, _centres, Classes, "class vectors");

        using var scope = NewDisposeScope();
        var logits = ClassCentres.Cosines(embeddings, _centres) / Temperature;
        var perSample = nn.functional.cross_entropy(logits, labels.to_type(ScalarType.Int64), reduction: nn.Reduction.None);
        return LossTerms.MoveToOuterDisposeScope(new LossTerms("samples", LossTermKind.Element, perSample));
    }

    /// <inheritdoc />
    protected override Tensor RegularizedWeights => _centres;

    /// <inheritdoc />
    public void Dispose() => _centres.Dispose();
}
