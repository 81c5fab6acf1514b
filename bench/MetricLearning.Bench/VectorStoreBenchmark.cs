using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using MetricLearning.Distances;
using MetricLearning.Indexing;
using MetricLearning.VectorData;
using Microsoft.Extensions.VectorData;

namespace MetricLearning.Bench;

/// <summary>
/// The folder vector store (Microsoft.Extensions.VectorData) beside the indexes it is built on: recall@10 and query
/// time at the given count, for the HNSW and the exact (Flat) index kinds, unfiltered and with a filter that lets a
/// tenth of the records through; upsert and reopening times.
/// </summary>
internal static class VectorStoreBenchmark
{
    /// <summary>A record of the benchmark's collection: a key, a group (0-9) to filter on, the vector twice (one per index kind).</summary>
    public sealed class Item
    {
        public long Id { get; set; }

        public int Group { get; set; }

        public float[]? Hnsw { get; set; }

        public float[]? Flat { get; set; }
    }

    internal static async Task<int> RunAsync(int count, int dimensions, int queryCount, int threads, string distribution)
    {
        var culture = CultureInfo.InvariantCulture;
        var draw = RandomVectors.Draw(distribution, dimensions, new Random(1), out string described);
        if (draw is null)
            return 2;

        var vectors = Enumerable.Range(0, count).Select(_ => draw()).ToArray();
        var queries = Enumerable.Range(0, queryCount).Select(_ => draw()).ToArray();
        long[] keys = Enumerable.Range(0, count).Select(i => (long)i).ToArray();
        Console.WriteLine(string.Create(culture, $"{count:N0} random {dimensions}-d vectors ({described}), {queryCount} queries one at a time, cosine, top 10; HNSW connectivity 16, build breadth 128, search breadth 64, built on {threads} thread(s); {Environment.ProcessorCount} cores"));

        // Ground truth: exact search, unfiltered and among group 3.
        using var exact = new ExactIndex(EmbeddingDistance.Create("CosineSimilarity"), dimensions);
        exact.Add(keys, vectors);
        var clock = Stopwatch.StartNew();
        var truth = queries.Select(q => exact.Search(q, 10).Select(n => n.Key).ToArray()).ToArray();
        double exactMs = 1000 * clock.Elapsed.TotalSeconds / queryCount;
        clock.Restart();
        var filteredTruth = queries.Select(q => exact.Search(q, 10, key => key % 10 == 3).Select(n => n.Key).ToArray()).ToArray();
        double exactFilteredMs = 1000 * clock.Elapsed.TotalSeconds / queryCount;

        var hnswOptions = new ApproximateIndexOptions { Threads = threads };
        clock.Restart();
        using var approximate = new ApproximateIndex(dimensions, IndexMetric.Cosine, hnswOptions);
        approximate.Add(keys, vectors, new int[count]);
        double buildSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var approximateFound = queries.Select(q => approximate.Search(q, 10).Select(n => n.Key).ToArray()).ToArray();
        double approximateMs = 1000 * clock.Elapsed.TotalSeconds / queryCount;

        string folder = Path.Combine(Path.GetTempPath(), "vector-store-bench-" + Guid.NewGuid().ToString("N"));
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            {
                new VectorStoreKeyProperty(nameof(Item.Id), typeof(long)),
                new VectorStoreDataProperty(nameof(Item.Group), typeof(int)),
                new VectorStoreVectorProperty(nameof(Item.Hnsw), typeof(float[]), dimensions) { IndexKind = IndexKind.Hnsw, DistanceFunction = DistanceFunction.CosineSimilarity },
                new VectorStoreVectorProperty(nameof(Item.Flat), typeof(float[]), dimensions) { IndexKind = IndexKind.Flat, DistanceFunction = DistanceFunction.CosineSimilarity },
            },
        };
        try
        {
            double upsertSeconds, reopenSeconds;
            var rows = new List<string>();
            using (var store = new FolderVectorStore(folder, new FolderVectorStoreOptions { Hnsw = hnswOptions }))
            {
                var collection = store.GetCollection<long, Item>("items", definition);
                await collection.EnsureCollectionExistsAsync();
                clock.Restart();
                foreach (var batch in keys.Chunk(1000))
                    await collection.UpsertAsync(batch.Select(i => new Item { Id = i, Group = (int)(i % 10), Hnsw = vectors[i], Flat = vectors[i] }));
                upsertSeconds = clock.Elapsed.TotalSeconds;

                async Task<(double Ms, double Recall)> Measure(string property, bool filtered)
                {
                    var options = new VectorSearchOptions<Item> { VectorProperty = property == "hnsw" ? item => item.Hnsw : item => item.Flat };
                    if (filtered)
                        options.Filter = item => item.Group == 3;
                    var found = new long[queryCount][];
                    clock.Restart();
                    for (int q = 0; q < queryCount; q++)
                        found[q] = (await collection.SearchAsync(queries[q], 10, options).ToListAsync()).Select(r => r.Record.Id).ToArray();
                    double ms = 1000 * clock.Elapsed.TotalSeconds / queryCount;
                    var expected = filtered ? filteredTruth : truth;
                    return (ms, Enumerable.Range(0, queryCount).Average(q => found[q].Intersect(expected[q]).Count() / 10.0));
                }

                var (storeHnswMs, storeHnswRecall) = await Measure("hnsw", false);
                var (storeFlatMs, storeFlatRecall) = await Measure("flat", false);
                var (filteredHnswMs, filteredHnswRecall) = await Measure("hnsw", true);
                var (filteredFlatMs, filteredFlatRecall) = await Measure("flat", true);
                double approximateRecall = Enumerable.Range(0, queryCount).Average(q => approximateFound[q].Intersect(truth[q]).Count() / 10.0);

                rows.Add(string.Create(culture, $"| ApproximateIndex (HNSW), directly | none | {approximateRecall:F3} | {approximateMs:F3} |"));
                rows.Add(string.Create(culture, $"| FolderVectorStore, Hnsw property | none | {storeHnswRecall:F3} | {storeHnswMs:F3} |"));
                rows.Add(string.Create(culture, $"| ExactIndex, directly | none | 1.000 | {exactMs:F3} |"));
                rows.Add(string.Create(culture, $"| FolderVectorStore, Flat property | none | {storeFlatRecall:F3} | {storeFlatMs:F3} |"));
                rows.Add(string.Create(culture, $"| ExactIndex, directly | group 3 (10%) | 1.000 | {exactFilteredMs:F3} |"));
                rows.Add(string.Create(culture, $"| FolderVectorStore, Hnsw property | Group == 3 (10%) | {filteredHnswRecall:F3} | {filteredHnswMs:F3} |"));
                rows.Add(string.Create(culture, $"| FolderVectorStore, Flat property | Group == 3 (10%) | {filteredFlatRecall:F3} | {filteredFlatMs:F3} |"));
            }

            clock.Restart();
            using (var reopened = new FolderVectorStore(folder, new FolderVectorStoreOptions { Hnsw = hnswOptions }))
            {
                var collection = reopened.GetCollection<long, Item>("items", definition);
                await collection.SearchAsync(queries[0], 10, new VectorSearchOptions<Item> { VectorProperty = item => item.Hnsw }).ToListAsync();
                reopenSeconds = clock.Elapsed.TotalSeconds;
            }

            Console.WriteLine("| search | filter | recall@10 | ms/query |");
            Console.WriteLine("|---|---|---|---|");
            foreach (string row in rows)
                Console.WriteLine(row);
            long bytes = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(file => new FileInfo(file).Length);
            Console.WriteLine(string.Create(culture,
                $"HNSW build, directly: {buildSeconds:F1} s; upsert into the store (both properties, batches of 1,000): {upsertSeconds:F1} s; reopen to first search (read {bytes / 1e6:F0} MB, rebuild both indexes): {reopenSeconds:F1} s; peak RSS {ProcessMemory.PeakRssMegabytes():F0} MB"));
            return 0;
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }
}
