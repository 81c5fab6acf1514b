using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Indexing;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Indexing;

public sealed class NearestNeighboursTests
{
    public static TheoryData<string, ScalarType, long, int> Cases => new()
    {
        // Float32 on the CPU takes the managed selection; float64 the per-tile top-k; small budgets force many tiles and
        // chunks; a k above 256 takes whole rows.
        { "cosine", ScalarType.Float32, 256 * 1024, 7 },
        { "euclidean", ScalarType.Float32, 256 * 1024, 7 },
        { "cosine", ScalarType.Float64, 512 * 1024, 7 },
        { "euclidean", ScalarType.Float32, 64L * 1024 * 1024, 7 },
        { "cosine", ScalarType.Float32, 2L * 1024 * 1024, 300 },
        // A distance without TryComputeMatrix: every tile comes from ComputeMatrix instead of the shared buffer.
        { "manhattan", ScalarType.Float32, 256 * 1024, 7 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Tiles_find_what_a_scan_of_every_pair_finds_and_leave_out_what_prepare_rules_out(string kind, ScalarType type, long budget, int K)
    {
        IDistance distance = kind switch
        {
            "cosine" => new CosineSimilarity(),
            "manhattan" => new LpDistance(1),
            _ => new EuclideanDistance(),
        };
        var random = new Random(3);
        // Coarse values, so that ties occur and must fall to the smaller position.
        double[][] points = Enumerable.Range(0, 3000).Select(_ => Enumerable.Range(0, 6).Select(_ => (double)random.Next(-3, 4)).ToArray()).ToArray();
        using var references = tensor(points.SelectMany(p => p).ToArray(), new long[] { 3000, 6 }).to_type(type);
        using var queries = references.narrow(0, 0, 700);
        var found = new long[700][];
        var values = new double[700][];

        NearestNeighbours.Search(distance, queries, references, K, budget,
            (start, length, v, p) =>
            {
                var hostValues = v.to_type(ScalarType.Float64).data<double>().ToArray();
                var hostPositions = p.data<long>().ToArray();
                for (int i = 0; i < length; i++)
                {
                    found[start + i] = hostPositions.AsSpan(i * K, K).ToArray();
                    values[start + i] = hostValues.AsSpan(i * K, K).ToArray();
                }
            },
            (start, length, first, tile) =>
            {
                // Rule out each query itself, wherever the tile holds it.
                for (long q = Math.Max(start, first); q < Math.Min(start + length, first + tile.shape[1]); q++)
                    tile[q - start, q - first] = tensor(distance.IsSimilarity ? double.NegativeInfinity : double.PositiveInfinity);
            });

        for (int q = 0; q < 700; q++)
        {
            var scored = Enumerable.Range(0, 3000).Where(r => r != q).Select(r => (Position: (long)r, Value: Score(kind, points[q], points[r])));
            var expected = (distance.IsSimilarity ? scored.OrderByDescending(e => e.Value) : scored.OrderBy(e => e.Value)).ToArray();
            values[q].Should().Equal(expected.Take(K).Select(e => e.Value), (a, b) => Math.Abs(a - b) < 1e-5, $"query {q}");
            // Where values tie, any of the tied positions is right; the k-th value bounds what may be returned.
            found[q].Should().OnlyHaveUniqueItems().And.NotContain(q);
            for (int j = 0; j < K; j++)
                Score(kind, points[q], points[found[q][j]]).Should().BeApproximately(values[q][j], 1e-5);
        }
    }

    private static double Score(string kind, double[] a, double[] b)
    {
        if (kind == "manhattan")
            return a.Zip(b, (x, y) => Math.Abs(x - y)).Sum();
        if (kind == "euclidean")
            return Math.Max(Math.Sqrt(a.Zip(b, (x, y) => (x - y) * (x - y)).Sum()), Math.Sqrt(EuclideanDistance.DefaultFloor));
        double dot = a.Zip(b, (x, y) => x * y).Sum(), na = Math.Max(Math.Sqrt(a.Sum(x => x * x)), 1e-12), nb = Math.Max(Math.Sqrt(b.Sum(x => x * x)), 1e-12);
        return dot / (na * nb);
    }
}
