using System.Collections.Generic;

namespace MetricLearning.Evaluation;

/// <summary>How well nearest-neighbour search over embeddings finds items of the query's class.</summary>
/// <param name="PrecisionAt1">Share of queries whose nearest reference has the query's label.</param>
/// <param name="RPrecision">
/// Mean over queries of the share of same-label references among the R nearest, where R is the number of references
/// with the query's label.
/// </param>
/// <param name="MapAtR">
/// Mean average precision at R (Musgrave et al., "A Metric Learning Reality Check", 2020): per query,
/// <c>(1/R) Σ_{i≤R} P(i)·rel(i)</c>, where <c>P(i)</c> is the precision among the i nearest and <c>rel(i)</c> is 1
/// when the i-th nearest has the query's label; averaged over queries.
/// </param>
/// <param name="QueryCount">Queries evaluated (those with at least one same-label reference).</param>
/// <remarks>The other metrics are computed when <see cref="RetrievalEvaluationOptions"/> asks for them, and are null (or empty) otherwise.</remarks>
public sealed record RetrievalMetrics(double PrecisionAt1, double RPrecision, double MapAtR, int QueryCount)
{
    /// <summary>Precision@k for each depth asked for, by k.</summary>
    public IReadOnlyDictionary<int, double> PrecisionAtK { get; init; } = new Dictionary<int, double>();

    /// <summary>
    /// Mean average precision over the first <see cref="RetrievalEvaluationOptions.Depth"/> neighbours:
    /// <c>(1/R) Σ_{i≤depth} P(i)·rel(i)</c> per query, averaged (over every relevant reference when the depth is all of them).
    /// </summary>
    public double? MeanAveragePrecision { get; init; }

    /// <summary>Mean reciprocal rank: 1 / the rank of the first same-label neighbour within the depth (0 when there is none), averaged.</summary>
    public double? MeanReciprocalRank { get; init; }

    /// <summary>Normalised mutual information of a k-means clustering of the queries against their labels (<see cref="ClusteringScores"/>).</summary>
    public double? Nmi { get; init; }

    /// <summary>Adjusted mutual information of a k-means clustering of the queries against their labels (<see cref="ClusteringScores"/>).</summary>
    public double? Ami { get; init; }

    /// <summary>Each metric averaged over each class's queries, then over the classes (pytorch-metric-learning's <c>avg_of_avgs</c>); <see cref="QueryCount"/> is then the number of classes.</summary>
    public RetrievalMetrics? ClassAverage { get; init; }

    /// <summary>Each class's metrics over its own queries, by label.</summary>
    public IReadOnlyDictionary<int, RetrievalMetrics>? PerClass { get; init; }
}
