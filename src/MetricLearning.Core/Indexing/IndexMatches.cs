using System.Collections.Generic;

namespace MetricLearning.Indexing;

/// <summary>The nearest indexed items of each query, nearest first.</summary>
/// <param name="Indices">For query q, the positions in the index of its k nearest items.</param>
/// <param name="Scores">For query q, the distance (or similarity) to each of them.</param>
/// <param name="Labels">For query q, the label of each of them.</param>
public sealed record IndexMatches(IReadOnlyList<long[]> Indices, IReadOnlyList<float[]> Scores, IReadOnlyList<int[]> Labels);
