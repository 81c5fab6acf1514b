using System;
using System.Collections.Generic;
using System.Linq;
using MetricLearning.Distances;
using MetricLearning.Indexing;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace MetricLearning.VectorData;

/// <summary>
/// The index of one vector property: exact (<see cref="ExactIndex"/>, index kind Flat, the default) or approximate
/// (<see cref="ApproximateIndex"/>, index kind Hnsw), with the property's distance function turned into the library's
/// distance and its scores into the abstraction's.
/// </summary>
/// <remarks>Not thread-safe by itself: the collection's lock orders writes against searches.</remarks>
internal sealed class VectorSearch : IDisposable
{
    private readonly ExactIndex? _exact;
    private readonly ApproximateIndex? _approximate;

    /// <summary>The library distance's value from the HNSW index's score (a similarity for Cosine and DotProduct, a distance for Euclidean).</summary>
    private readonly Func<float, double> _fromGraph = Same;

    /// <summary>The abstraction's score from the library distance's value (negated for NegativeDotProductSimilarity).</summary>
    private readonly Func<double, double> _score;

    internal VectorSearch(VectorPropertyModel property, EmbeddingDistance? defaultDistance, ApproximateIndexOptions? hnsw)
    {
        string kind = property.IndexKind ?? IndexKind.Flat;
        string function = property.DistanceFunction ?? (defaultDistance is null ? DistanceFunction.CosineSimilarity : defaultDistance.Name);
        Distance = property.DistanceFunction is null && defaultDistance is not null ? defaultDistance : Managed(function, property);
        _score = function == DistanceFunction.NegativeDotProductSimilarity ? value => -value : value => value;
        Descending = function == DistanceFunction.NegativeDotProductSimilarity ? false : Distance.IsSimilarity;
        if (kind == IndexKind.Flat)
        {
            _exact = new ExactIndex(Distance, property.Dimensions);
        }
        else if (kind == IndexKind.Hnsw)
        {
            // The graph's metric that ranks as the library's distance does, with its settings, and the distance's value from the graph's score.
            bool normalize = Distance.Settings.TryGetValue("normalize", out double flag) && flag != 0;
            double floor = Math.Sqrt(Distance.Settings.TryGetValue("floor", out double f) ? f : 0);
            (IndexMetric Metric, Func<float, double> FromGraph)? mapping = Distance.Name switch
            {
                "CosineSimilarity" => (IndexMetric.Cosine, Same),
                "CosineDistance" => (IndexMetric.Cosine, OneMinus),
                "DotProductSimilarity" => normalize ? (IndexMetric.Cosine, Same) : (IndexMetric.DotProduct, Same),
                "EuclideanDistance" => (IndexMetric.Euclidean, value => Math.Max(value, floor)),
                "SquaredEuclideanDistance" => normalize ? (IndexMetric.Cosine, value => 2 - 2 * (double)value) : (IndexMetric.Euclidean, Squared),
                "LpDistance" when !normalize && Distance.Settings.GetValueOrDefault("p", 2) == 2 => (IndexMetric.Euclidean, Same),
                _ => null,
            };
            if (mapping is null)
                throw new NotSupportedException(
                    $"The vector property '{property.ModelName}' asks for an HNSW index with the distance {Distance} ({function}), which HNSW does not serve here; use cosine, dot-product or Euclidean distances, or the Flat index kind.");
            _fromGraph = mapping.Value.FromGraph;
            _approximate = new ApproximateIndex(property.Dimensions, mapping.Value.Metric, hnsw);
        }
        else
        {
            throw new NotSupportedException($"The vector property '{property.ModelName}' asks for the index kind {kind}; a folder collection has Flat (exact, the default) and Hnsw (approximate).");
        }
    }

    /// <summary>The library's distance that ranks as the function does.</summary>
    internal EmbeddingDistance Distance { get; }

    /// <summary>Whether a larger score is nearer.</summary>
    internal bool Descending { get; }

    /// <summary>Whether searches are approximate.</summary>
    internal bool IsApproximate => _approximate is not null;

    internal void AddMany(IReadOnlyList<long> ids, IReadOnlyList<float[]> vectors)
    {
        if (ids.Count == 0)
            return;
        if (_exact is not null)
            _exact.Add(ids, vectors);
        else
            _approximate!.Add(ids, vectors, new int[ids.Count]);
    }

    internal void Remove(long id)
    {
        if (_exact is not null)
            _exact.Remove(id);
        else
            _approximate!.Remove(id);
    }

    /// <summary>
    /// The <paramref name="count"/> nearest ids the filter lets through, nearest first, with the abstraction's scores.
    /// HNSW cannot filter while it walks its graph here, so it over-fetches: it asks for 4 times what is wanted, then
    /// 4 times more while too few pass, and once it would have to fetch half the index it scans the passing records
    /// exactly instead.
    /// </summary>
    /// <param name="query">The query.</param>
    /// <param name="count">How many at most.</param>
    /// <param name="filter">Which ids may be returned; null for all.</param>
    /// <param name="passing">The ids the filter lets through, enumerated only if HNSW falls back to a scan.</param>
    /// <param name="vectorOf">The vector of an id, for that scan.</param>
    internal IReadOnlyList<(long Id, double Score)> Search(float[] query, int count, Func<long, bool>? filter, IEnumerable<long> passing, Func<long, float[]> vectorOf)
    {
        if (_exact is not null)
            return _exact.Search(query, count, filter).Select(n => (n.Key, _score(n.Score))).ToArray();

        int total = _approximate!.Count;
        if (total == 0)
            return Array.Empty<(long, double)>();
        int fetch = (int)Math.Min(total, filter is null ? count : Math.Max(4L * count, 32));
        while (true)
        {
            var found = _approximate.Search(query, fetch);
            var kept = found.Where(n => filter is null || filter(n.Key)).Take(count).Select(n => (n.Key, _score(_fromGraph(n.Score)))).ToArray();
            if (kept.Length == count || fetch == total || filter is null)
                return kept;
            if (4L * fetch >= total / 2)
                break;
            fetch = (int)Math.Min(total, 4L * fetch);
        }

        // Too few pass for over-fetching to pay: an exact scan of those that do.
        var ranked = passing.Select(id => (Id: id, Value: Distance.Compute(query, vectorOf(id))));
        ranked = Distance.IsSimilarity ? ranked.OrderByDescending(entry => entry.Value).ThenBy(entry => entry.Id) : ranked.OrderBy(entry => entry.Value).ThenBy(entry => entry.Id);
        return ranked.Take(count).Select(entry => (entry.Id, _score(entry.Value))).ToArray();
    }

    public void Dispose()
    {
        _exact?.Dispose();
        _approximate?.Dispose();
    }

    private static double Same(float value) => value;

    private static double OneMinus(float value) => 1 - (double)value;

    private static double Squared(float value) => (double)value * value;

    /// <summary>The library's distance for one of the abstraction's distance functions (or one of the library's names).</summary>
    private static EmbeddingDistance Managed(string function, VectorPropertyModel property) => function switch
    {
        DistanceFunction.CosineSimilarity => EmbeddingDistance.Create("CosineSimilarity"),
        DistanceFunction.CosineDistance => EmbeddingDistance.Create("CosineDistance"),
        DistanceFunction.DotProductSimilarity or DistanceFunction.NegativeDotProductSimilarity => EmbeddingDistance.Create("DotProductSimilarity"),
        DistanceFunction.EuclideanDistance => EmbeddingDistance.Create("EuclideanDistance", new Dictionary<string, double> { ["floor"] = 0 }),
        DistanceFunction.EuclideanSquaredDistance => EmbeddingDistance.Create("SquaredEuclideanDistance"),
        DistanceFunction.ManhattanDistance => EmbeddingDistance.Create("LpDistance", new Dictionary<string, double> { ["p"] = 1 }),
        _ when EmbeddingDistance.Names.Contains(function) => EmbeddingDistance.Create(function),
        _ => throw new NotSupportedException(
            $"The vector property '{property.ModelName}' asks for the distance function {function}; a folder collection has CosineSimilarity, CosineDistance, DotProductSimilarity, NegativeDotProductSimilarity, EuclideanDistance, EuclideanSquaredDistance, ManhattanDistance and the library's {string.Join(", ", EmbeddingDistance.Names)}."),
    };
}
