namespace MetricLearning.Distances;

/// <summary>The formula of an <see cref="EmbeddingDistance"/>, so that an index can choose a vectorised path for it.</summary>
internal enum DistanceKind
{
    Euclidean,
    SquaredEuclidean,
    Lp,
    CosineDistance,
    CosineSimilarity,
    DotProduct,
}
