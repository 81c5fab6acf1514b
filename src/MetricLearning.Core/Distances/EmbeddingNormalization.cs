using static TorchSharp.torch;

namespace MetricLearning.Distances;

/// <summary>L2 normalisation of embedding rows, shared by the distances that offer it.</summary>
internal static class EmbeddingNormalization
{
    /// <summary>Smallest norm divided by, so that a zero row stays zero (and finite) instead of becoming NaN.</summary>
    internal const double Epsilon = 1e-12;

    /// <summary>Each row divided by its L2 norm (rows of norm below 1e-12 are divided by 1e-12).</summary>
    internal static Tensor Normalize(Tensor embeddings) => nn.functional.normalize(embeddings, 2.0, 1, Epsilon);

    /// <summary>A new reference to the rows, normalised if asked.</summary>
    internal static Tensor MaybeNormalize(Tensor embeddings, bool normalize) => normalize ? Normalize(embeddings) : embeddings.alias();
}
