using System.Collections.Generic;

namespace MetricLearning.Reports;

/// <summary>One row of a neighbour grid: a query image and its nearest neighbours, each marked right or wrong.</summary>
/// <param name="Query">The query's grey pixels, row-major, 0-255.</param>
/// <param name="Neighbours">The nearest neighbours' pixels, nearest first, with whether each is of the query's class.</param>
public sealed record NeighbourRow(byte[] Query, IReadOnlyList<(byte[] Pixels, bool SameClass)> Neighbours);
