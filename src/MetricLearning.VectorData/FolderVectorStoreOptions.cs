using MetricLearning.Distances;
using MetricLearning.Indexing;
using Microsoft.Extensions.AI;

namespace MetricLearning.VectorData;

/// <summary>Settings of a <see cref="FolderVectorStore"/>, for every collection it opens.</summary>
public sealed class FolderVectorStoreOptions
{
    /// <summary>
    /// Embeds what records carry and searches give when they are not vectors: a MetricLearning model's generator
    /// (<c>IEmbeddingGenerator&lt;float[], Embedding&lt;float&gt;&gt;</c>, for <see cref="ModelInput"/> values) or any
    /// generator of strings or DataContent. A collection's definition or a vector property may name another. Null for none.
    /// </summary>
    public IEmbeddingGenerator? EmbeddingGenerator { get; set; }

    /// <summary>
    /// The distance of vector properties that name no distance function: typically the model's own
    /// (<c>OnnxEmbeddingModel.Distance</c>), so that the store ranks as the model was trained to. Null for cosine similarity,
    /// the abstraction's default.
    /// </summary>
    public EmbeddingDistance? Distance { get; set; }

    /// <summary>The HNSW graph's settings for vector properties of index kind Hnsw; null for the defaults.</summary>
    public ApproximateIndexOptions? Hnsw { get; set; }
}
