using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using MetricLearning.Distances;
using MetricLearning.Indexing;
using MetricLearning.Runtime;
using static TorchSharp.torch;

namespace MetricLearning.Bench;

/// <summary>
/// The HNSW index against exact search on random vectors: build time, peak memory, query time and recall@10.
/// </summary>
internal static class ApproximateSearchBenchmark
{
    internal static int Run(int count, int dimensions, int queryCount, int threads, int searchBreadth, int connectivity)
    {
        TorchRuntime.SetThreadCount(threads);
        var culture = CultureInfo.InvariantCulture;
        var random = new Random(1);
        float[][] Vectors(int n) => Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, dimensions).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        var vectors = Vectors(count);
        var queries = Vectors(queryCount);
        Console.WriteLine(string.Create(culture, $"{count:N0} random {dimensions}-d vectors, {queryCount} queries, cosine, connectivity {connectivity}, search breadth {searchBreadth}, {threads} torch thread(s), {Environment.ProcessorCount} cores"));

        var clock = Stopwatch.StartNew();
        using var index = new ApproximateIndex(dimensions, IndexMetric.Cosine, new ApproximateIndexOptions { SearchBreadth = searchBreadth, Connectivity = connectivity });
        index.Add(Enumerable.Range(0, count).Select(i => (ulong)i).ToArray(), vectors, new int[count]);
        double build = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(culture, $"HNSW build: {build:F1} s; peak RSS so far {ProcessMemory.PeakRssMegabytes():F0} MB"));

        clock.Restart();
        var approximate = queries.Select(q => index.Search(q, 10).Select(m => (long)m.Key).ToArray()).ToArray();
        double approximateSeconds = clock.Elapsed.TotalSeconds;

        clock.Restart();
        long[][] exact;
        using (var references = tensor(vectors.SelectMany(v => v).ToArray(), new long[] { count, dimensions }))
        using (var exactIndex = new EmbeddingIndex(new CosineSimilarity()))
        using (var queryTensor = tensor(queries.SelectMany(v => v).ToArray(), new long[] { queryCount, dimensions }))
        {
            exactIndex.Add(references, new int[count]);
            clock.Restart();
            exact = exactIndex.Search(queryTensor, 10).Indices.ToArray();
        }

        double exactSeconds = clock.Elapsed.TotalSeconds;
        double recall = Enumerable.Range(0, queryCount).Average(q => approximate[q].Intersect(exact[q]).Count() / 10.0);
        Console.WriteLine(string.Create(culture,
            $"| vectors | build s | recall@10 | exact ms/query | HNSW ms/query | speed-up | peak RSS MB |"));
        Console.WriteLine(string.Create(culture,
            $"| {count:N0} | {build:F1} | {recall:F3} | {1000 * exactSeconds / queryCount:F3} | {1000 * approximateSeconds / queryCount:F3} | {exactSeconds / approximateSeconds:F0}x | {ProcessMemory.PeakRssMegabytes():F0} |"));
        return 0;
    }
}
