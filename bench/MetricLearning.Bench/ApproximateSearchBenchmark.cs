using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using MetricLearning.Distances;
using MetricLearning.Evaluation;
using MetricLearning.Indexing;
using MetricLearning.Mnist;
using MetricLearning.Mnist.Acquisition;
using MetricLearning.Models;
using MetricLearning.Runtime;
using static TorchSharp.torch;

namespace MetricLearning.Bench;

/// <summary>
/// The HNSW index against exact search on random vectors: build time, memory, query time and recall@10 at several
/// search breadths on one built graph.
/// </summary>
internal static class ApproximateSearchBenchmark
{
    /// <summary>Random vectors: uniform in [-1, 1]^d (no structure at all), or <c>latentN</c>: a random linear map of N-d Gaussian points plus 1% noise, the low intrinsic dimension that learned embeddings have.</summary>
    internal static int Run(int count, int dimensions, int queryCount, int threads, int[] searchBreadths, int connectivity, int buildBreadth, IndexPrecision precision, string distribution)
    {
        var draw = RandomVectors.Draw(distribution, dimensions, new Random(1), out string described);
        if (draw is null)
            return 2;

        var vectors = Enumerable.Range(0, count).Select(_ => draw()).ToArray();
        var queries = Enumerable.Range(0, queryCount).Select(_ => draw()).ToArray();
        return Compare($"{count:N0} random {dimensions}-d vectors ({described})", vectors, queries, threads, searchBreadths, connectivity, buildBreadth, precision);
    }

    /// <summary>
    /// The same comparison on MNIST: a model saved by the retrieval sample (<c>--save</c>) embeds the 10,000 test
    /// images (the queries) and the 60,000 training images (the index); precision@1 by label is added.
    /// </summary>
    internal static int RunMnist(string modelFolder, string dataFolder, int threads, int[] searchBreadths, int connectivity, int buildBreadth, IndexPrecision precision)
    {
        TorchRuntime.SetThreadCount(threads);
        var mnist = MnistDataset.Load(new MnistAcquirer(new MnistAcquisitionOptions { CacheFolder = dataFolder }).EnsureAsync().GetAwaiter().GetResult());
        using var model = TrainedModel.Load(modelFolder);
        float[][] Embed(MnistSplit split)
        {
            using var scope = NewDisposeScope();
            using var inputs = split.ToInputSet();
            using var embedded = model.Embed(inputs.Data.to_type(ScalarType.Float32)).contiguous();
            var flat = embedded.data<float>().ToArray();
            int width = (int)embedded.shape[1];
            return Enumerable.Range(0, split.Count).Select(i => flat.AsSpan(i * width, width).ToArray()).ToArray();
        }

        return Compare($"MNIST: {mnist.Train.Count:N0} training embeddings of the model in {modelFolder}", Embed(mnist.Train), Embed(mnist.Test), threads, searchBreadths, connectivity, buildBreadth, precision,
            mnist.Train.Labels.ToArray(), mnist.Test.Labels.ToArray());
    }

    /// <summary>Exact search against the HNSW index on the given vectors and queries (and precision@1 when labels are given).</summary>
    internal static int Compare(string what, float[][] vectors, float[][] queries, int threads, int[] searchBreadths, int connectivity, int buildBreadth, IndexPrecision precision,
        int[]? vectorLabels = null, int[]? queryLabels = null)
    {
        TorchRuntime.SetThreadCount(threads);
        var culture = CultureInfo.InvariantCulture;
        int count = vectors.Length, queryCount = queries.Length, dimensions = vectors[0].Length;
        Console.WriteLine(string.Create(culture, $"{what}, {queryCount} queries, cosine, {precision} storage, connectivity {connectivity}, build breadth {buildBreadth}, {threads} thread(s) for torch and the index, {Environment.ProcessorCount} cores"));
        Console.WriteLine(string.Create(culture, $"peak RSS with the vectors in managed arrays: {ProcessMemory.PeakRssMegabytes():F0} MB"));

        var clock = Stopwatch.StartNew();
        long[][] exact;
        double exactMs;
        double? exactPrecision = null;
        using (var references = tensor(vectors.SelectMany(v => v).ToArray(), new long[] { count, dimensions }))
        using (var exactIndex = new EmbeddingIndex(new CosineSimilarity()))
        using (var queryTensor = tensor(queries.SelectMany(v => v).ToArray(), new long[] { queryCount, dimensions }))
        {
            exactIndex.Add(references, vectorLabels ?? new int[count]);
            clock.Restart();
            exact = exactIndex.Search(queryTensor, 10).Indices.ToArray();
            exactMs = 1000 * clock.Elapsed.TotalSeconds / queryCount;
            if (queryLabels is not null)
                exactPrecision = RetrievalEvaluator.Evaluate(exactIndex, queries, queryLabels, maxR: 1).PrecisionAt1;
        }

        Console.WriteLine(string.Create(culture, $"exact search (EmbeddingIndex, batched): {exactMs:F3} ms/query; peak RSS {ProcessMemory.PeakRssMegabytes():F0} MB"));
        GC.Collect();

        clock.Restart();
        using var index = new ApproximateIndex(dimensions, IndexMetric.Cosine, new ApproximateIndexOptions { Connectivity = connectivity, BuildBreadth = buildBreadth, Precision = precision, Threads = threads });
        index.Add(Enumerable.Range(0, count).Select(i => (long)i).ToArray(), vectors, vectorLabels ?? new int[count]);
        double build = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(culture, $"HNSW build: {build:F1} s; index memory {index.MemoryBytes / 1e6:F0} MB; peak RSS so far {ProcessMemory.PeakRssMegabytes():F0} MB"));

        if (exactPrecision is double p)
            Console.WriteLine(string.Create(culture, $"exact precision@1: {100 * p:F2}%"));
        Console.WriteLine("| vectors | build s | search breadth | recall@10 | exact ms/query | HNSW ms/query, one caller | HNSW ms/query, batch | speed-up (batch vs exact) | precision@1 |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (int breadth in searchBreadths)
        {
            index.SearchBreadth = breadth;
            clock.Restart();
            var approximate = queries.Select(q => index.Search(q, 10).Select(m => m.Key).ToArray()).ToArray();
            double oneMs = 1000 * clock.Elapsed.TotalSeconds / queryCount;
            clock.Restart();
            index.Search(queries, 10);
            double batchMs = 1000 * clock.Elapsed.TotalSeconds / queryCount;
            double recall = Enumerable.Range(0, queryCount).Average(q => approximate[q].Intersect(exact[q]).Count() / 10.0);
            string precisionAt1 = queryLabels is null ? "" : string.Create(culture, $"{100 * RetrievalEvaluator.Evaluate(index, queries, queryLabels, maxR: 1).PrecisionAt1:F2}%");
            Console.WriteLine(string.Create(culture,
                $"| {count:N0} | {build:F1} | {breadth} | {recall:F3} | {exactMs:F3} | {oneMs:F3} | {batchMs:F3} | {exactMs / batchMs:F0}x | {precisionAt1} |"));
        }

        Console.WriteLine(string.Create(culture, $"peak RSS {ProcessMemory.PeakRssMegabytes():F0} MB (the vectors are held three times: managed arrays, the exact index's tensor, the HNSW index)"));
        return 0;
    }
}
