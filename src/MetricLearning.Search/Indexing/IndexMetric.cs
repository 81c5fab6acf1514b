namespace MetricLearning.Indexing;

/// <summary>How an <see cref="ApproximateIndex"/> compares vectors.</summary>
public enum IndexMetric
{
    /// <summary>Cosine similarity; scores are similarities in [−1, 1], larger is closer.</summary>
    Cosine,

    /// <summary>Dot product; scores are dot products, larger is closer.</summary>
    DotProduct,

    /// <summary>Euclidean distance; scores are distances, smaller is closer.</summary>
    Euclidean,
}
