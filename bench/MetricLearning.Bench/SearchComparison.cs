using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using MetricLearning.Distances;
using MetricLearning.Indexing;
using BatchEmbed;
using MetricLearning.Runtime;
using static TorchSharp.torch;

namespace MetricLearning.Bench;

/// <summary>
/// Our side of <c>bench/compare-faiss.sh</c>: generates the vectors and queries (seeded, so both sides search the same
/// data: it writes them as <c>.npy</c> for FAISS), then times exact search (<see cref="EmbeddingIndex"/>, all queries
/// in one batched call, the median of five after a warm-up) and HNSW (<see cref="ApproximateIndex"/>, storing vectors at the given precision: build, then all queries in one batched call), and
/// prints one <c>key=value</c> line per figure for the script to read.
/// </summary>
internal static class SearchComparison
{
    internal static int Run(int count, int dimensions, int queryCount, int threads, string distribution, string folder, bool approximate, int searchBreadth, int connectivity,
        IndexPrecision precision)
    {
        var culture = CultureInfo.InvariantCulture;
        var draw = RandomVectors.Draw(distribution, dimensions, new Random(1), out _);
        if (draw is null)
            return 2;

        TorchRuntime.SetThreadCount(threads);
        var vectors = Enumerable.Range(0, count).Select(_ => draw()).ToArray();
        var queries = Enumerable.Range(0, queryCount).Select(_ => draw()).ToArray();
        Directory.CreateDirectory(folder);
        Write(Path.Combine(folder, "vectors.npy"), vectors);
        Write(Path.Combine(folder, "queries.npy"), queries);

        const int K = 10;
        using var index = new EmbeddingIndex(new CosineSimilarity());
        using (var references = tensor(vectors.SelectMany(v => v).ToArray(), new long[] { count, dimensions }))
            index.Add(references, new int[count]);
        using var queryTensor = tensor(queries.SelectMany(v => v).ToArray(), new long[] { queryCount, dimensions });
        index.Search(queryTensor, K); // warm-up: the first call pays for the runtime's own set-up
        // The median of five timed calls: one call is a fraction of a second, and a virtual machine's noise is not.
        var times = new double[5];
        IndexMatches exact = null!;
        var clock = Stopwatch.StartNew();
        for (int repeat = 0; repeat < times.Length; repeat++)
        {
            clock.Restart();
            exact = index.Search(queryTensor, K);
            times[repeat] = clock.Elapsed.TotalSeconds;
        }

        double seconds = times.Order().ElementAt(times.Length / 2);
        Console.WriteLine(string.Create(culture, $"exact_ms_per_query={1000 * seconds / queryCount:F4}"));
        Console.WriteLine(string.Create(culture, $"exact_gflops={2.0 * count * queryCount * dimensions / seconds / 1e9:F1}"));
        WriteIds(Path.Combine(folder, "ours-exact.npy"), exact.Indices.Select(row => row.ToArray()).ToArray());

        if (!approximate)
            return 0;
        clock.Restart();
        using var graph = new ApproximateIndex(dimensions, IndexMetric.Cosine, new ApproximateIndexOptions { Threads = threads, SearchBreadth = searchBreadth, Connectivity = connectivity, Precision = precision });
        graph.Add(Enumerable.Range(0, count).Select(i => (long)i).ToArray(), vectors, new int[count]);
        Console.WriteLine(string.Create(culture, $"hnsw_build_s={clock.Elapsed.TotalSeconds:F2}"));
        clock.Restart();
        var found = graph.Search(queries, K);
        Console.WriteLine(string.Create(culture, $"hnsw_ms_per_query={1000 * clock.Elapsed.TotalSeconds / queryCount:F4}"));
        double recall = Enumerable.Range(0, queryCount).Average(q => found[q].Select(n => n.Key).Intersect(exact.Indices[q]).Count() / (double)K);
        Console.WriteLine(string.Create(culture, $"hnsw_recall={recall:F4}"));
        return 0;
    }

    private static void Write(string path, float[][] rows)
    {
        using var stream = File.Create(path);
        NpyFile.WriteHeader(stream, "<f4", rows.Length, rows[0].Length);
        foreach (var row in rows)
            stream.Write(MemoryMarshal.AsBytes(row.AsSpan()));
    }

    private static void WriteIds(string path, long[][] rows)
    {
        using var stream = File.Create(path);
        NpyFile.WriteHeader(stream, "<i8", rows.Length, rows[0].Length);
        foreach (var row in rows)
            stream.Write(MemoryMarshal.AsBytes(row.AsSpan()));
    }
}
