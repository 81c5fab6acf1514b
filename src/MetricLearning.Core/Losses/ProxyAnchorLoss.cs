using System;
using System.Collections.Generic;
using MetricLearning.Reducers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// Proxy-Anchor loss (Kim, Kim, Cho and Kwak, CVPR 2020): one learnt proxy per class, and every embedding of the batch
/// compared with every proxy by cosine similarity s:
/// <c>L = (1/|P⁺|) Σ_{p∈P⁺} log(1 + Σ_{x∈X_p⁺} e^{−α(s(x,p) − δ)}) + (1/|P|) Σ_{p∈P} log(1 + Σ_{x∈X_p⁻} e^{α(s(x,p) + δ)})</c>,
/// where P are all proxies, P⁺ the proxies of the classes present in the batch, X_p⁺ the batch's embeddings of p's
/// class and X_p⁻ the others.
/// </summary>
/// <remarks>
/// <para>
/// Defaults α = 32, δ = 0.1 (the paper's). The proxies are this loss's own weights (<see cref="ITrainableParameters"/>):
/// <see cref="Training.EmbeddingTrainer"/> trains them with the network, 100 times faster by default. Labels must be
/// class numbers from 0 to <see cref="Classes"/> − 1 (checked each call, which reads the labels' range from the device).
/// </para>
/// <para>
/// Each embedding meets every proxy, so the loss needs no pair or triplet mining and refuses mined indices. It holds
/// its proxies: not thread-safe while training; dispose it to free them.
/// </para>
/// <para>
/// Two sub-losses of <see cref="LossTermKind.Class"/> values, one per proxy: "positive proxies" (divisor: the classes
/// present) and "negative proxies" (divisor: all classes), reduced by <see cref="BatchLoss.Reducer"/>
/// (<see cref="DivisorReducer"/> by default, as pytorch-metric-learning's, which gives the formula above).
/// </para>
/// </remarks>
public sealed class ProxyAnchorLoss : BatchLoss, ITrainableParameters, IDisposable
{
    private readonly Parameter _proxies;

    /// <summary>Creates the loss with proxies drawn from a normal distribution (torch's generator: seed it with <c>manual_seed</c>).</summary>
    /// <param name="classes">How many classes (proxies); at least 2.</param>
    /// <param name="embeddingSize">Width of the embeddings; at least 1.</param>
    /// <param name="alpha">Scale α; positive and finite.</param>
    /// <param name="delta">Margin δ; finite and at least 0.</param>
    /// <param name="learningRateScale">How much faster than the network the proxies learn; positive and finite.</param>
    /// <param name="device">Where the proxies live; the CPU if null. It must be the embeddings' device.</param>
    /// <param name="reducer">How each half becomes a number; null for <see cref="DivisorReducer"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public ProxyAnchorLoss(int classes, long embeddingSize, double alpha = 32, double delta = 0.1, double learningRateScale = 100, Device? device = null, IReducer? reducer = null)
        : base(reducer ?? new DivisorReducer())
    {
        if (!double.IsFinite(alpha) || alpha <= 0)
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "Alpha must be positive and finite.");
        if (!double.IsFinite(delta) || delta < 0)
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "Delta must be finite and at least 0.");
        Classes = classes;
        Alpha = alpha;
        Delta = delta;
        LearningRateScale = learningRateScale;
        _proxies = ClassCentres.Create(classes, embeddingSize, learningRateScale, device, "Proxy-Anchor");
    }

    /// <summary>How many classes (proxies) there are.</summary>
    public int Classes { get; }

    /// <summary>Scale α.</summary>
    public double Alpha { get; }

    /// <summary>Margin δ.</summary>
    public double Delta { get; }

    /// <summary>The proxies, one row per class, <c>[Classes, EmbeddingSize]</c>; trained with the network.</summary>
    public Parameter Proxies => _proxies;

    /// <summary>How much faster than the network the proxies learn.</summary>
    public double LearningRateScale { get; }

    /// <inheritdoc />
    public IReadOnlyList<ParameterGroup> ParameterGroups => new[] { new ParameterGroup("Proxy-Anchor proxies", new[] { _proxies }, LearningRateScale) };

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Mined indices were given, the embeddings' width or device differs from the proxies', or a label is outside 0 to Classes − 1.</exception>
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        if (mined is not null)
            throw new ArgumentException("The Proxy-Anchor loss compares every embedding with every proxy and takes no mined pairs or triplets; train it without a miner.", nameof(mined));
        ClassCentres.Check(embeddings, labels, _proxies, Classes, "proxies");

        using var scope = NewDisposeScope();
        var similarity = ClassCentres.Cosines(embeddings, _proxies);
        var positive = nn.functional.one_hot(labels.to_type(ScalarType.Int64), Classes).to_type(ScalarType.Bool);
        var pull = LogOnePlusSumExp((similarity - Delta) * -Alpha, positive);
        var push = LogOnePlusSumExp((similarity + Delta) * Alpha, positive.logical_not());
        var present = positive.any(0);
        return LossTerms.MoveToOuterDisposeScope(
            new LossTerms("positive proxies", LossTermKind.Class, pull, valid: present, divisor: present.sum()),
            new LossTerms("negative proxies", LossTermKind.Class, push, divisor: tensor(Classes, device: push.device)));
    }

    /// <summary><c>log(1 + Σ_{x in mask} e^{exponent})</c> per proxy (column), as a log-sum-exp with a 0.</summary>
    private static Tensor LogOnePlusSumExp(Tensor exponents, Tensor mask)
    {
        var masked = exponents.masked_fill(mask.logical_not(), double.NegativeInfinity);
        var withOne = cat(new[] { masked, zeros(1, masked.shape[1], dtype: masked.dtype, device: masked.device) }, 0);
        return withOne.logsumexp(0);
    }

    /// <inheritdoc />
    protected override Tensor RegularizedWeights => _proxies;

    /// <inheritdoc />
    public void Dispose() => _proxies.Dispose();
}
