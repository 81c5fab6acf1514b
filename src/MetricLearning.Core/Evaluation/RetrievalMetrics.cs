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
public sealed record RetrievalMetrics(double PrecisionAt1, double RPrecision, double MapAtR, int QueryCount);
