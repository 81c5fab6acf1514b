namespace MetricLearning.Indexing;

/// <summary>One search result of an <see cref="EmbeddingIndex"/>.</summary>
/// <param name="Position">The neighbour's position in the index (the order of addition, from 0).</param>
/// <param name="Score">Its distance to the query, or its similarity for a similarity.</param>
/// <param name="Label">Its label.</param>
public sealed record Neighbour(long Position, float Score, int Label);
