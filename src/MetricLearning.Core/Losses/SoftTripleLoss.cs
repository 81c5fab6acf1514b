using System;
using System.Collections.Generic;
using MetricLearning.Reducers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// SoftTriple loss (Qian, Shang, Sun, Hu, Li and Jin, "SoftTriple Loss: Deep Metric Learning Without Triplet
/// Sampling", ICCV 2019): K learnt centres per class; an embedding's similarity with class c is the softmax-weighted
/// mean of its cosines with c's centres, <c>S_c = Σ_k softmax_k(cos(x, w_c^k)/γ) · cos(x, w_c^k)</c>, and the loss a
/// softmax cross-entropy with scale λ and margin δ on the true class:
/// <c>L = mean_i −log( e^{λ(S_{y_i} − δ)} / (e^{λ(S_{y_i} − δ)} + Σ_{c≠y_i} e^{λ S_c}) )</c>.
/// Equal to pytorch-metric-learning 2.8.1's <c>SoftTripleLoss</c>.
/// </summary>
/// <remarks>
/// <para>
/// Defaults K = 10, λ = 20, γ = 0.1 and δ = 0.01, PML's (the paper's). Like PML, the loss leaves out the paper's
/// regularizer that merges similar centres (weight τ). The centres are this loss's own weights
/// (<see cref="ITrainableParameters"/>), drawn uniformly in ±1/√(Classes·K) as PML draws them
/// (<c>kaiming_uniform_(a=√5)</c> of its transposed weights), and trained with the network at the same pace by
/// default (PML's documentation recommends no other learning rate). Labels must be class numbers from 0 to
/// <see cref="Classes"/> − 1 (checked each call, which reads the labels' range from the device).
/// </para>
/// <para>
/// Each embedding meets every centre, so the loss needs no triplet sampling and refuses mined indices. Holds its
/// centres: not thread-safe while training; dispose it to free them.
/// </para>
/// <para>One sub-loss, "samples" (<see cref="LossTermKind.Element"/>): each sample's cross-entropy, reduced by <see cref="BatchLoss.Reducer"/> (<see cref="MeanReducer"/> by default, PML's).</para>
/// </remarks>
public sealed class SoftTripleLoss : BatchLoss, ITrainableParameters, IDisposable
{
    private readonly Parameter _centres;

    /// <summary>Creates the loss with centres drawn uniformly in ±1/√(classes·centresPerClass) (torch's generator: seed it with <c>manual_seed</c>).</summary>
    /// <param name="classes">How many classes; at least 2.</param>
    /// <param name="embeddingSize">Width of the embeddings; at least 1.</param>
    /// <param name="centresPerClass">Centres per class, K; at least 1.</param>
    /// <param name="lambda">Scale λ of the class similarities (PML's <c>la</c>); positive and finite.</param>
    /// <param name="gamma">Temperature γ of the softmax over a class's centres; positive and finite.</param>
    /// <param name="margin">Margin δ on the true class's similarity; finite and at least 0.</param>
    /// <param name="learningRateScale">How much faster than the network the centres learn; positive and finite.</param>
    /// <param name="device">Where the centres live; the CPU if null. It must be the embeddings' device.</param>
    /// <param name="reducer">How the samples' values become the loss; null for <see cref="MeanReducer"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public SoftTripleLoss(int classes, long embeddingSize, int centresPerClass = 10, double lambda = 20, double gamma = 0.1, double margin = 0.01, double learningRateScale = 1, Device? device = null, IReducer? reducer = null)
        : base(reducer ?? new MeanReducer())
    {
        if (!double.IsFinite(lambda) || lambda <= 0)
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "Lambda must be positive and finite.");
        if (!double.IsFinite(gamma) || gamma <= 0)
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "Gamma must be positive and finite.");
        if (!double.IsFinite(margin) || margin < 0)
            throw new ArgumentOutOfRangeException(nameof(margin), margin, "The margin must be finite and at least 0.");
        Classes = classes;
        CentresPerClass = centresPerClass;
        Lambda = lambda;
        Gamma = gamma;
        Margin = margin;
        LearningRateScale = learningRateScale;
        _centres = ClassCentres.Create(classes, embeddingSize, learningRateScale, device, "SoftTriple", centresPerClass, nameof(centresPerClass), CentreInit.KaimingUniformOfTransposed);
    }

    /// <summary>How many classes there are.</summary>
    public int Classes { get; }

    /// <summary>Centres per class, K.</summary>
    public int CentresPerClass { get; }

    /// <summary>Scale λ of the class similarities.</summary>
    public double Lambda { get; }

    /// <summary>Temperature γ of the softmax over a class's centres.</summary>
    public double Gamma { get; }

    /// <summary>Margin δ on the true class's similarity.</summary>
    public double Margin { get; }

    /// <summary>
    /// The centres, one row each, <c>[Classes · CentresPerClass, EmbeddingSize]</c> (PML's <c>fc</c> transposed): class
    /// c's are rows <c>c·K</c> to <c>c·K + K − 1</c>. Trained with the network.
    /// </summary>
    public Parameter Centres => _centres;

    /// <summary>How much faster than the network the centres learn.</summary>
    public double LearningRateScale { get; }

    /// <inheritdoc />
    public IReadOnlyList<ParameterGroup> ParameterGroups => new[] { new ParameterGroup("SoftTriple centres", new[] { _centres }, LearningRateScale) };

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Mined indices were given, the embeddings' width or device differs from the centres', or a label is outside 0 to Classes − 1.</exception>
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        if (mined is not null)
            throw new ArgumentException("The SoftTriple loss compares every embedding with every centre and takes no mined pairs or triplets; train it without a miner.", nameof(mined));
        ClassCentres.Check(embeddings, labels, _centres, Classes, "centres");

        using var scope = NewDisposeScope();
        var toCentres = ClassCentres.Cosines(embeddings, _centres).view(embeddings.shape[0], Classes, CentresPerClass);
        var weights = nn.functional.softmax(toCentres / Gamma, 2);
        var toClasses = (weights * toCentres).sum(2);
        var target = labels.to_type(ScalarType.Int64);
        var margins = nn.functional.one_hot(target, Classes).to_type(toClasses.dtype) * Margin;
        var perSample = nn.functional.cross_entropy((toClasses - margins) * Lambda, target, reduction: nn.Reduction.None);
        return LossTerms.MoveToOuterDisposeScope(new LossTerms("samples", LossTermKind.Element, perSample));
    }

    /// <inheritdoc />
    protected override Tensor RegularizedWeights => _centres;

    /// <inheritdoc />
    public void Dispose() => _centres.Dispose();
}
