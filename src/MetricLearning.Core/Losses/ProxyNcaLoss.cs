using System;
using System.Collections.Generic;
using MetricLearning.Reducers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// Proxy-NCA loss (Movshovitz-Attias, Toshev, Leung, Ioffe and Singh, "No Fuss Distance Metric Learning using
/// Proxies", ICCV 2017): one learnt proxy per class, and each embedding's neighbourhood-component probability of its
/// own class's proxy, with d the squared Euclidean distance between the L2-normalised embedding and proxy and s the
/// softmax scale: <c>L = mean_i −log( e^{−s·d(x_i, p_{y_i})} / Σ_z e^{−s·d(x_i, p_z)} )</c>.
/// Equal to pytorch-metric-learning 2.8.1's <c>ProxyNCALoss</c> with its default distance (<c>LpDistance(power=2)</c>,
/// squared Euclidean on L2-normalised vectors).
/// </summary>
/// <remarks>
/// <para>
/// Default s = 1, PML's. As in PML, the denominator sums over every proxy, the target's included (the paper's leaves it
/// out). The proxies are this loss's own weights (<see cref="ITrainableParameters"/>), drawn from a standard normal
/// distribution as PML draws them, and trained with the network at the same pace by default (PML's documentation
/// recommends no other learning rate). Labels must be class numbers from 0 to <see cref="Classes"/> − 1 (checked each
/// call, which reads the labels' range from the device).
/// </para>
/// <para>
/// One difference from PML, where its probability underflows: PML takes the logarithm of a softmax and drops the
/// samples whose probability is exactly 0 (from the loss and from the mean's count); ours takes the log-softmax, so
/// such a sample keeps its finite loss and its gradient. With s = 1 this cannot happen (−s·d lies in [−4s, 0]); with
/// large scales in float32 it can, and there the two differ.
/// </para>
/// <para>
/// Each embedding meets every proxy, so the loss needs no pair or triplet mining and refuses mined indices. Holds its
/// proxies: not thread-safe while training; dispose it to free them.
/// </para>
/// <para>One sub-loss, "samples" (<see cref="LossTermKind.Element"/>): each sample's −log probability, reduced by <see cref="BatchLoss.Reducer"/> (<see cref="MeanReducer"/> by default, PML's).</para>
/// </remarks>
public sealed class ProxyNcaLoss : BatchLoss, ITrainableParameters, IDisposable
{
    private readonly Parameter _proxies;

    /// <summary>Creates the loss with proxies drawn from a standard normal distribution (torch's generator: seed it with <c>manual_seed</c>).</summary>
    /// <param name="classes">How many classes (proxies); at least 2.</param>
    /// <param name="embeddingSize">Width of the embeddings; at least 1.</param>
    /// <param name="softmaxScale">Scale s of the negated squared distances; positive and finite.</param>
    /// <param name="learningRateScale">How much faster than the network the proxies learn; positive and finite.</param>
    /// <param name="device">Where the proxies live; the CPU if null. It must be the embeddings' device.</param>
    /// <param name="reducer">How the samples' values become the loss; null for <see cref="MeanReducer"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public ProxyNcaLoss(int classes, long embeddingSize, double softmaxScale = 1, double learningRateScale = 1, Device? device = null, IReducer? reducer = null)
        : base(reducer ?? new MeanReducer())
    {
        if (!double.IsFinite(softmaxScale) || softmaxScale <= 0)
            throw new ArgumentOutOfRangeException(nameof(softmaxScale), softmaxScale, "The softmax scale must be positive and finite.");
        Classes = classes;
        SoftmaxScale = softmaxScale;
        LearningRateScale = learningRateScale;
        _proxies = ClassCentres.Create(classes, embeddingSize, learningRateScale, device, "Proxy-NCA");
    }

    /// <summary>How many classes (proxies) there are.</summary>
    public int Classes { get; }

    /// <summary>Scale s of the negated squared distances.</summary>
    public double SoftmaxScale { get; }

    /// <summary>The proxies, one row per class, <c>[Classes, EmbeddingSize]</c> (PML's layout); trained with the network.</summary>
    public Parameter Proxies => _proxies;

    /// <summary>How much faster than the network the proxies learn.</summary>
    public double LearningRateScale { get; }

    /// <inheritdoc />
    public IReadOnlyList<ParameterGroup> ParameterGroups => new[] { new ParameterGroup("Proxy-NCA proxies", new[] { _proxies }, LearningRateScale) };

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Mined indices were given, the embeddings' width or device differs from the proxies', or a label is outside 0 to Classes − 1.</exception>
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        if (mined is not null)
            throw new ArgumentException("The Proxy-NCA loss compares every embedding with every proxy and takes no mined pairs or triplets; train it without a miner.", nameof(mined));
        ClassCentres.Check(embeddings, labels, _proxies, Classes, "proxies");

        using var scope = NewDisposeScope();
        // Between unit vectors, the squared Euclidean distance is 2 − 2·cos.
        var squaredDistance = 2 - 2 * ClassCentres.Cosines(embeddings, _proxies);
        var perSample = nn.functional.cross_entropy(squaredDistance * -SoftmaxScale, labels.to_type(ScalarType.Int64), reduction: nn.Reduction.None);
        return LossTerms.MoveToOuterDisposeScope(new LossTerms("samples", LossTermKind.Element, perSample));
    }

    /// <inheritdoc />
    protected override Tensor RegularizedWeights => _proxies;

    /// <inheritdoc />
    public void Dispose() => _proxies.Dispose();
}
