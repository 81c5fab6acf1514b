using System;
using System.Collections.Generic;
using System.Linq;
using MetricLearning.Reducers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// Sub-centre ArcFace (Deng, Guo, Liu, Ye, Lu and Zafeiriou, "Sub-center ArcFace: Boosting Face Recognition by
/// Large-Scale Noisy Web Faces", ECCV 2020): ArcFace (<see cref="ArcFaceLoss"/>) with K learnt sub-centres per class,
/// where an embedding's cosine with a class is its largest cosine with that class's sub-centres,
/// <c>cos θ_j = max_k cos(x, W_j^k)</c>; then, as ArcFace,
/// <c>L = mean_i −log( e^{s·cos(θ_{y_i} + m)} / (e^{s·cos(θ_{y_i} + m)} + Σ_{j≠y_i} e^{s·cos θ_j}) )</c>.
/// Equal to pytorch-metric-learning 2.8.1's <c>SubCenterArcFaceLoss</c>.
/// </summary>
/// <remarks>
/// <para>
/// Defaults K = 3, m = 0.5 rad and s = 64. PML's margin is in degrees, 28.6 by default, where ours is in radians like
/// <see cref="ArcFaceLoss"/>'s (0.5 rad is 28.65°). As in <see cref="ArcFaceLoss"/>, θ is taken from a cosine clamped
/// to [−1 + 1e-7, 1 − 1e-7] so that its gradient stays finite, and past θ = π − m the true class's logit is
/// <c>s·(cos θ − m·sin m)</c>. The sub-centres are this loss's own weights (<see cref="ITrainableParameters"/>), drawn
/// from a standard normal distribution as PML draws them, and trained with the network at the same pace by default
/// (PML's documentation recommends no other learning rate). Labels must be class numbers from 0 to
/// <see cref="Classes"/> − 1 (checked each call, which reads the labels' range from the device).
/// </para>
/// <para>
/// <see cref="FindOutliers"/> is PML's <c>get_outliers</c>: each class's dominant sub-centre and the samples far from
/// it, for cleaning a noisy data set between trainings as the paper does. PML's constructor passes none of its other
/// options (reducer, regularizers) to the loss; ours takes them.
/// </para>
/// <para>
/// A classification loss: it needs no pairs and refuses mined indices. Embeddings compared by cosine similarity
/// afterwards. Holds its sub-centres: not thread-safe while training; dispose it to free them.
/// </para>
/// <para>One sub-loss, "samples" (<see cref="LossTermKind.Element"/>): each sample's cross-entropy, reduced by <see cref="BatchLoss.Reducer"/> (<see cref="MeanReducer"/> by default, PML's).</para>
/// </remarks>
public sealed class SubCenterArcFaceLoss : BatchLoss, ITrainableParameters, IDisposable
{
    private readonly Parameter _centres;

    /// <summary>Creates the loss with sub-centres drawn from a standard normal distribution (torch's generator: seed it with <c>manual_seed</c>).</summary>
    /// <param name="classes">How many classes; at least 2.</param>
    /// <param name="embeddingSize">Width of the embeddings; at least 1.</param>
    /// <param name="subCentres">Sub-centres per class, K; at least 1 (1 is <see cref="ArcFaceLoss"/>).</param>
    /// <param name="margin">Angular margin m in radians; in [0, π/2].</param>
    /// <param name="scale">Scale s of the logits; positive and finite.</param>
    /// <param name="learningRateScale">How much faster than the network the sub-centres learn; positive and finite.</param>
    /// <param name="device">Where the sub-centres live; the CPU if null. It must be the embeddings' device.</param>
    /// <param name="reducer">How the samples' values become the loss; null for <see cref="MeanReducer"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public SubCenterArcFaceLoss(int classes, long embeddingSize, int subCentres = 3, double margin = 0.5, double scale = 64, double learningRateScale = 1, Device? device = null, IReducer? reducer = null)
        : base(reducer ?? new MeanReducer())
    {
        if (!double.IsFinite(margin) || margin < 0 || margin > Math.PI / 2)
            throw new ArgumentOutOfRangeException(nameof(margin), margin, "The angular margin must be between 0 and π/2 radians.");
        if (!double.IsFinite(scale) || scale <= 0)
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale must be positive and finite.");
        Classes = classes;
        SubCentres = subCentres;
        Margin = margin;
        Scale = scale;
        LearningRateScale = learningRateScale;
        _centres = ClassCentres.Create(classes, embeddingSize, learningRateScale, device, "sub-centre ArcFace", subCentres, nameof(subCentres), CentreInit.Normal);
    }

    /// <summary>How many classes there are.</summary>
    public int Classes { get; }

    /// <summary>Sub-centres per class, K.</summary>
    public int SubCentres { get; }

    /// <summary>Angular margin m, radians.</summary>
    public double Margin { get; }

    /// <summary>Scale s of the logits.</summary>
    public double Scale { get; }

    /// <summary>
    /// The sub-centres, one row each, <c>[Classes · SubCentres, EmbeddingSize]</c> (PML's <c>W</c> transposed): class c's
    /// are rows <c>c·K</c> to <c>c·K + K − 1</c>. Trained with the network.
    /// </summary>
    public Parameter Centres => _centres;

    /// <summary>How much faster than the network the sub-centres learn.</summary>
    public double LearningRateScale { get; }

    /// <inheritdoc />
    public IReadOnlyList<ParameterGroup> ParameterGroups => new[] { new ParameterGroup("sub-centre ArcFace sub-centres", new[] { _centres }, LearningRateScale) };

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Mined indices were given, the embeddings' width or device differs from the sub-centres', or a label is outside 0 to Classes − 1.</exception>
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        if (mined is not null)
            throw new ArgumentException("Sub-centre ArcFace classifies each embedding against learnt sub-centres and takes no mined pairs or triplets; train it without a miner.", nameof(mined));
        ClassCentres.Check(embeddings, labels, _centres, Classes, "sub-centres");

        using var scope = NewDisposeScope();
        var cosine = ClassCentres.Cosines(embeddings, _centres)
            .view(embeddings.shape[0], Classes, SubCentres)
            .amax(new long[] { 2 });
        var perSample = ArcFaceLoss.CrossEntropyWithMargin(cosine, labels, Margin, Scale);
        return LossTerms.MoveToOuterDisposeScope(new LossTerms("samples", LossTermKind.Element, perSample));
    }

    /// <summary>
    /// Each class's dominant sub-centre (the one nearest to most of the class's samples in this batch) and the samples
    /// whose angle with their class's dominant sub-centre exceeds <paramref name="threshold"/>: the paper's way of finding
    /// mislabelled samples after training, PML's <c>get_outliers</c> (whose threshold is in degrees, 75 by default).
    /// Reads the result back from the device; no gradient.
    /// </summary>
    /// <param name="embeddings">Shape <c>[N, D]</c>, floating point, N ≥ 2.</param>
    /// <param name="labels">Shape <c>[N]</c>, class numbers from 0 to Classes − 1.</param>
    /// <param name="threshold">The largest angle, in radians, to the dominant sub-centre that is not an outlier; in [0, π]. 75° (1.309 rad) by default.</param>
    /// <returns>
    /// The outliers' rows in the batch, ascending; and per class the row of <see cref="Centres"/> that is its
    /// dominant sub-centre (among equally popular ones the first), −1 for a class with no sample in the batch.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException">The threshold is out of range.</exception>
    /// <exception cref="ArgumentException">The batch is invalid, or does not match the sub-centres.</exception>
    public (long[] Outliers, long[] DominantSubCentres) FindOutliers(Tensor embeddings, Tensor labels, double threshold = 1.3089969389957472)
    {
        if (!double.IsFinite(threshold) || threshold < 0 || threshold > Math.PI)
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold angle must be between 0 and π radians.");
        ClassCentres.Check(embeddings, labels, _centres, Classes, "sub-centres");

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long n = embeddings.shape[0];
        var target = labels.to_type(ScalarType.Int64);
        var cosine = ClassCentres.Cosines(embeddings, _centres).view(n, Classes, SubCentres);
        var toOwn = cosine.gather(1, target.view(n, 1, 1).expand(n, 1, SubCentres)).squeeze(1);
        var nearest = toOwn.argmax(1);
        var counts = zeros(Classes * (long)SubCentres, dtype: ScalarType.Int64, device: embeddings.device)
            .index_add_(0, target * SubCentres + nearest, ones(n, dtype: ScalarType.Int64, device: embeddings.device), 1)
            .view(Classes, SubCentres);
        var dominant = counts.argmax(1);
        var present = counts.sum(1).gt(0);
        var toDominant = toOwn.gather(1, dominant.index_select(0, target).unsqueeze(1)).squeeze(1);
        var outliers = arange(n, dtype: ScalarType.Int64, device: embeddings.device).masked_select(toDominant.lt(Math.Cos(threshold)));
        var rows = where(present, arange(Classes, dtype: ScalarType.Int64, device: embeddings.device) * SubCentres + dominant, tensor(-1L, device: embeddings.device));
        return (outliers.cpu().data<long>().ToArray(), rows.cpu().data<long>().ToArray());
    }

    /// <inheritdoc />
    protected override Tensor RegularizedWeights => _centres;

    /// <inheritdoc />
    public void Dispose() => _centres.Dispose();
}
