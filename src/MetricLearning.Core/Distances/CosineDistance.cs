using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Distances;

/// <summary>Cosine distance, a distance (smaller is closer): <c>d(a, b) = 1 − cos(a, b)</c>, in [0, 2].</summary>
/// <remarks>Computed from <see cref="CosineSimilarity"/>, with its handling of zero embeddings. Stateless and thread-safe.</remarks>
public sealed class CosineDistance : IDistance
{
    // Made once: a Scalar per call would hold native memory until the next garbage collection, and a search calls
    // TryComputeMatrix once per tile.
    private static readonly Scalar One = 1.0.ToScalar();
    private readonly CosineSimilarity _similarity = new();

    /// <inheritdoc />
    public Tensor Compute(Tensor first, Tensor second)
    {
        using var similarity = _similarity.Compute(first, second);
        return OneMinus(similarity);
    }

    /// <inheritdoc />
    public Tensor ComputeMatrix(Tensor queries, Tensor references)
    {
        using var similarity = _similarity.ComputeMatrix(queries, references);
        return OneMinus(similarity);
    }

    /// <inheritdoc />
    public bool TryComputeMatrix(Tensor queries, Tensor references, Tensor output)
    {
        if (!_similarity.TryComputeMatrix(queries, references, output))
            return false;
        using var noGrad = no_grad();
        output.neg_().add_(One);
        return true;
    }

    private static Tensor OneMinus(Tensor similarity)
    {
        using var negated = similarity.neg();
        return negated.add(1.0);
    }

    /// <summary>How this distance is saved with a model or index: its name and settings.</summary>
    private sealed class Format : NumericPartFormat<CosineDistance>
    {
        public override string Name => nameof(CosineDistance);

        protected override IReadOnlyDictionary<string, double> Describe(CosineDistance part) => new Dictionary<string, double>();

        protected override CosineDistance Create(NumericSettings settings) => new();
    }
}
