namespace MetricLearning.Indexing;

/// <summary>One result of an <see cref="ApproximateIndex"/> search.</summary>
/// <param name="Key">The key the vector was added with.</param>
/// <param name="Label">The label it was added with.</param>
/// <param name="Score">Its similarity to the query (<see cref="IndexMetric.Cosine"/>, <see cref="IndexMetric.DotProduct"/>) or distance (<see cref="IndexMetric.Euclidean"/>).</param>
public sealed record ApproximateMatch(ulong Key, int Label, float Score);
