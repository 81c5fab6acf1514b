using System.Collections.Generic;
using System;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Distances;

/// <summary>Squared Euclidean distance: <c>d(a, b) = Σ (a_k − b_k)²</c>, optionally of L2-normalised embeddings.</summary>
/// <remarks>
/// Smooth everywhere, including at <c>a == b</c> (no square root), so it needs no floor. On normalised embeddings it
/// lies in [0, 4] and equals <c>2 − 2·cos(a, b)</c>. Stateless and thread-safe.
/// </remarks>
public sealed class SquaredEuclideanDistance : IDistance
{
    // Made once: a Scalar per call would hold native memory until the next garbage collection, and a search calls
    // TryComputeMatrix once per tile.
    private static readonly Scalar Zero = 0.0.ToScalar();

    /// <summary>Creates the distance.</summary>
    /// <param name="normalize">Whether to L2-normalise each embedding first.</param>
    public SquaredEuclideanDistance(bool normalize = false) => Normalize = normalize;

    /// <summary>Whether embeddings are L2-normalised first.</summary>
    public bool Normalize { get; }

    /// <inheritdoc />
    public Tensor Compute(Tensor first, Tensor second)
    {
        TensorChecks.EmbeddingBatches(first, nameof(first), second, nameof(second), rowWise: true);
        using var a = EmbeddingNormalization.MaybeNormalize(first, Normalize);
        using var b = EmbeddingNormalization.MaybeNormalize(second, Normalize);
        using var difference = a - b;
        using var squared = difference.square();
        return squared.sum(1);
    }

    /// <inheritdoc />
    public Tensor ComputeMatrix(Tensor queries, Tensor references)
    {
        TensorChecks.EmbeddingBatches(queries, nameof(queries), references, nameof(references), rowWise: false);
        using var q = EmbeddingNormalization.MaybeNormalize(queries, Normalize);
        using var r = EmbeddingNormalization.MaybeNormalize(references, Normalize);
        // |q - r|^2 = |q|^2 + |r|^2 - 2 q.r with one matrix product; clamped at 0 against rounding.
        using var queryNorms = SquaredNorms(q, keepdim: true);
        using var referenceNorms = SquaredNorms(r, keepdim: false);
        using var referencesT = r.t();
        using var products = q.matmul(referencesT);
        using var norms = queryNorms + referenceNorms;
        using var squared = norms.add(products, -2.0);
        return squared.clamp_min(0.0);
    }

    /// <inheritdoc />
    public bool TryComputeMatrix(Tensor queries, Tensor references, Tensor output)
    {
        TensorChecks.MatrixOutput(queries, references, output);
        using var noGrad = no_grad();
        using var q = EmbeddingNormalization.MaybeNormalize(queries, Normalize);
        using var r = EmbeddingNormalization.MaybeNormalize(references, Normalize);
        // As ComputeMatrix, with the sums added in place: -2 q.r, then |q|^2, then |r|^2.
        using var queryNorms = SquaredNorms(q, keepdim: true);
        using var referenceNorms = SquaredNorms(r, keepdim: false);
        using var referencesT = r.t();
        output.addmm_(q, referencesT, beta: 0, alpha: -2);
        output.add_(queryNorms).add_(referenceNorms).clamp_min_(Zero);
        return true;
    }

    /// <summary>Each row's squared L2 norm: <c>[N, 1]</c> with <paramref name="keepdim"/>, else <c>[N]</c>.</summary>
    private static Tensor SquaredNorms(Tensor rows, bool keepdim)
    {
        using var squares = rows.square();
        return squares.sum(1, keepdim: keepdim);
    }

    /// <summary>How this distance is saved with a model or index: its name and settings.</summary>
    private sealed class Format : NumericPartFormat<SquaredEuclideanDistance>
    {
        public override string Name => nameof(SquaredEuclideanDistance);

        protected override IReadOnlyDictionary<string, double> Describe(SquaredEuclideanDistance part) => new Dictionary<string, double> { ["normalize"] = part.Normalize ? 1 : 0 };

        protected override SquaredEuclideanDistance Create(NumericSettings settings) => new(settings.GetFlag("normalize"));
    }
}
