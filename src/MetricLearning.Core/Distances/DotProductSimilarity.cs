using System.Collections.Generic;
using static TorchSharp.torch;

namespace MetricLearning.Distances;

/// <summary>
/// Dot-product similarity, a <b>similarity</b> (<see cref="IsSimilarity"/> is true: larger is closer):
/// <c>s(a, b) = Σ a_k·b_k</c>, optionally of L2-normalised embeddings (then it is the cosine similarity).
/// </summary>
/// <remarks>Unbounded without normalisation. Stateless and thread-safe.</remarks>
public sealed class DotProductSimilarity : IDistance
{
    /// <summary>Creates the similarity.</summary>
    /// <param name="normalize">Whether to L2-normalise each embedding first.</param>
    public DotProductSimilarity(bool normalize = false) => Normalize = normalize;

    /// <summary>Whether embeddings are L2-normalised first.</summary>
    public bool Normalize { get; }

    /// <inheritdoc />
    public bool IsSimilarity => true;

    /// <inheritdoc />
    public Tensor Compute(Tensor first, Tensor second)
    {
        TensorChecks.EmbeddingBatches(first, nameof(first), second, nameof(second), rowWise: true);
        using var a = EmbeddingNormalization.MaybeNormalize(first, Normalize);
        using var b = EmbeddingNormalization.MaybeNormalize(second, Normalize);
        using var products = a * b;
        return products.sum(1);
    }

    /// <inheritdoc />
    public Tensor ComputeMatrix(Tensor queries, Tensor references)
    {
        TensorChecks.EmbeddingBatches(queries, nameof(queries), references, nameof(references), rowWise: false);
        using var q = EmbeddingNormalization.MaybeNormalize(queries, Normalize);
        using var r = EmbeddingNormalization.MaybeNormalize(references, Normalize);
        using var referencesT = r.t();
        return q.matmul(referencesT);
    }

    /// <inheritdoc />
    public bool TryComputeMatrix(Tensor queries, Tensor references, Tensor output)
    {
        TensorChecks.MatrixOutput(queries, references, output);
        using var noGrad = no_grad();
        using var q = EmbeddingNormalization.MaybeNormalize(queries, Normalize);
        using var r = EmbeddingNormalization.MaybeNormalize(references, Normalize);
        using var referencesT = r.t();
        output.addmm_(q, referencesT, beta: 0, alpha: 1);
        return true;
    }

    /// <summary>How this distance is saved with a model or index: its name and settings.</summary>
    private sealed class Format : NumericPartFormat<DotProductSimilarity>
    {
        public override string Name => nameof(DotProductSimilarity);

        protected override IReadOnlyDictionary<string, double> Describe(DotProductSimilarity part) => new Dictionary<string, double> { ["normalize"] = part.Normalize ? 1 : 0 };

        protected override DotProductSimilarity Create(NumericSettings settings) => new(settings.GetFlag("normalize"));
    }
}
