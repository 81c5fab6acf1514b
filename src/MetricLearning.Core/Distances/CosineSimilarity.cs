using System.Collections.Generic;
using static TorchSharp.torch;

namespace MetricLearning.Distances;

/// <summary>
/// Cosine similarity, a <b>similarity</b> (<see cref="IsSimilarity"/> is true: larger is closer):
/// <c>s(a, b) = a·b / (‖a‖ ‖b‖)</c>, in [−1, 1].
/// </summary>
/// <remarks>
/// Embeddings are L2-normalised first (a zero embedding stays zero, so its similarity to anything is 0, and its
/// gradient is finite). Use <see cref="CosineDistance"/> where a loss expects a distance. Stateless and thread-safe.
/// </remarks>
public sealed class CosineSimilarity : IDistance
{
    /// <inheritdoc />
    public bool IsSimilarity => true;

    /// <inheritdoc />
    public Tensor Compute(Tensor first, Tensor second)
    {
        TensorChecks.EmbeddingBatches(first, nameof(first), second, nameof(second), rowWise: true);
        using var a = EmbeddingNormalization.Normalize(first);
        using var b = EmbeddingNormalization.Normalize(second);
        using var products = a * b;
        return products.sum(1);
    }

    /// <inheritdoc />
    public Tensor ComputeMatrix(Tensor queries, Tensor references)
    {
        TensorChecks.EmbeddingBatches(queries, nameof(queries), references, nameof(references), rowWise: false);
        using var q = EmbeddingNormalization.Normalize(queries);
        using var r = EmbeddingNormalization.Normalize(references);
        using var referencesT = r.t();
        return q.matmul(referencesT);
    }

    /// <inheritdoc />
    public bool TryComputeMatrix(Tensor queries, Tensor references, Tensor output)
    {
        TensorChecks.MatrixOutput(queries, references, output);
        using var noGrad = no_grad();
        using var q = EmbeddingNormalization.Normalize(queries);
        using var r = EmbeddingNormalization.Normalize(references);
        using var referencesT = r.t();
        output.addmm_(q, referencesT, beta: 0, alpha: 1);
        return true;
    }

    /// <summary>How this distance is saved with a model or index: its name and settings.</summary>
    private sealed class Format : NumericPartFormat<CosineSimilarity>
    {
        public override string Name => nameof(CosineSimilarity);

        protected override IReadOnlyDictionary<string, double> Describe(CosineSimilarity part) => new Dictionary<string, double>();

        protected override CosineSimilarity Create(NumericSettings settings) => new();
    }
}
