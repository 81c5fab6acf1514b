namespace MetricLearning.Indexing;

/// <summary>One search result of an <see cref="INeighbourIndex"/>.</summary>
/// <param name="Key">
/// Which indexed vector: for an <c>EmbeddingIndex</c> its position (the order of addition, from 0), for an
/// <see cref="ExactIndex"/> or an <c>ApproximateIndex</c> the key it was added with.
/// </param>
/// <param name="Score">Its distance to the query, or its similarity for a similarity (<see cref="INeighbourIndex.ScoresAreSimilarities"/>).</param>
/// <param name="Label">Its label.</param>
public sealed record Neighbour(long Key, float Score, int Label);
