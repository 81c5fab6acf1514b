using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace MetricLearning.Distances;

/// <summary>
/// The signal-to-noise ratio distance (Yuan, Chen, Yang and Wang, CVPR 2019), a distance (smaller is closer):
/// <c>d(a, b) = Var(b − a) / Var(a)</c>, the variance of the "noise" b − a over that of the "signal" a, each taken over
/// the embedding's components, optionally of L2-normalised embeddings. Not symmetric.
/// </summary>
/// <remarks>
/// <para>
/// Equals pytorch-metric-learning's <c>SNRDistance</c>, with its default of L2-normalising first. Embeddings need at
/// least two components. An embedding whose components are all equal (a zero one among them) has no variance: its
/// distances are infinite or NaN, as pytorch-metric-learning's.
/// </para>
/// <para>
/// The matrix form uses <c>Var(b − a) ∝ |b̄ − ā|²</c> of the centred embeddings, expanded into one matrix product
/// and clamped at 0 against rounding, like <see cref="SquaredEuclideanDistance"/>. Stateless and thread-safe.
/// </para>
/// </remarks>
public sealed class SnrDistance : IDistance
{
    /// <summary>Creates the distance.</summary>
    /// <param name="normalize">Whether to L2-normalise each embedding first (pytorch-metric-learning's default).</param>
    public SnrDistance(bool normalize = true) => Normalize = normalize;

    /// <summary>Whether embeddings are L2-normalised first.</summary>
    public bool Normalize { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The shapes differ, or the embeddings have fewer than two components.</exception>
    public Tensor Compute(Tensor first, Tensor second)
    {
        TensorChecks.EmbeddingBatches(first, nameof(first), second, nameof(second), rowWise: true);
        CheckWidth(first, nameof(first));
        using var scope = NewDisposeScope();
        var a = EmbeddingNormalization.MaybeNormalize(first, Normalize);
        var b = EmbeddingNormalization.MaybeNormalize(second, Normalize);
        // Both variances with the same divisor, which cancels.
        return ((b - a).var(1, unbiased: false) / a.var(1, unbiased: false)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The widths differ, or the embeddings have fewer than two components.</exception>
    public Tensor ComputeMatrix(Tensor queries, Tensor references)
    {
        TensorChecks.EmbeddingBatches(queries, nameof(queries), references, nameof(references), rowWise: false);
        CheckWidth(queries, nameof(queries));
        using var scope = NewDisposeScope();
        var q = Centred(EmbeddingNormalization.MaybeNormalize(queries, Normalize));
        var r = Centred(EmbeddingNormalization.MaybeNormalize(references, Normalize));
        var querySquares = q.square().sum(1, keepdim: true);
        var referenceSquares = r.square().sum(1);
        // |r − q|² of centred rows is the width times Var(r − q); the query's own |q|² is the width times Var(q).
        var noise = (querySquares + referenceSquares - 2 * q.matmul(r.t())).clamp_min(0);
        return (noise / querySquares).MoveToOuterDisposeScope();
    }

    private static Tensor Centred(Tensor embeddings) => embeddings - embeddings.mean(new long[] { 1 }, keepdim: true);

    private static void CheckWidth(Tensor embeddings, string name)
    {
        if (embeddings.shape[1] < 2)
            throw new ArgumentException($"The SNR distance needs embeddings of at least two components (a variance); '{name}' is {TensorChecks.Shape(embeddings)}.", name);
    }

    /// <summary>How this distance is saved with a model or index: its name and settings.</summary>
    private sealed class Format : NumericPartFormat<SnrDistance>
    {
        public override string Name => nameof(SnrDistance);

        protected override IReadOnlyDictionary<string, double> Describe(SnrDistance part) => new Dictionary<string, double> { ["normalize"] = part.Normalize ? 1 : 0 };

        protected override SnrDistance Create(NumericSettings settings) => new(settings.GetFlag("normalize"));
    }
}
