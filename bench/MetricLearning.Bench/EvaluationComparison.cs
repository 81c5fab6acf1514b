using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using BatchEmbed;
using MetricLearning.Distances;
using MetricLearning.Evaluation;
using MetricLearning.Runtime;
using static TorchSharp.torch;

namespace MetricLearning.Bench;

/// <summary>
/// Our side of <c>bench/compare-evaluation.sh</c>: seeded embeddings of many small classes (a Gaussian centre per
/// class, Gaussian noise around it, rows L2-normalised), written as <c>.npy</c> for pytorch-metric-learning, then
/// retrieval evaluated with the queries as the references (precision@1, R-precision, MAP@R by cosine, which ranks as
/// PML's L2 search does on normalised rows). Prints <c>key=value</c> lines.
/// </summary>
internal static class EvaluationComparison
{
    internal static int Run(int count, int classes, int dimensions, double noise, int threads, string folder, bool clustering)
    {
        var culture = CultureInfo.InvariantCulture;
        TorchRuntime.SetThreadCount(threads);
        var random = new Random(7);
        double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var centres = Enumerable.Range(0, classes).Select(_ => Enumerable.Range(0, dimensions).Select(_ => Gaussian()).ToArray()).ToArray();
        var labels = Enumerable.Range(0, count).Select(i => i % classes).ToArray();
        var rows = new float[count * dimensions];
        for (int i = 0; i < count; i++)
        {
            var row = rows.AsSpan(i * dimensions, dimensions);
            double norm = 0;
            for (int j = 0; j < dimensions; j++)
            {
                double value = centres[labels[i]][j] + noise * Gaussian();
                row[j] = (float)value;
                norm += value * value;
            }

            for (int j = 0; j < dimensions; j++)
                row[j] = (float)(row[j] / Math.Sqrt(norm));
        }

        Directory.CreateDirectory(folder);
        using (var stream = File.Create(Path.Combine(folder, "embeddings.npy")))
        {
            NpyFile.WriteHeader(stream, "<f4", count, dimensions);
            stream.Write(MemoryMarshal.AsBytes(rows.AsSpan()));
        }

        using (var stream = File.Create(Path.Combine(folder, "labels.npy")))
        {
            NpyFile.WriteHeader(stream, "<i8", count);
            stream.Write(MemoryMarshal.AsBytes(labels.Select(label => (long)label).ToArray().AsSpan()));
        }

        using var embeddings = tensor(rows, new long[] { count, dimensions });
        double before = ProcessMemory.PeakRssMegabytes();
        var clock = Stopwatch.StartNew();
        var metrics = RetrievalEvaluator.Evaluate(embeddings, labels, embeddings, labels, new CosineSimilarity(), queriesAreReferences: true);
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(culture, $"seconds={seconds:F2}"));
        Console.WriteLine(string.Create(culture, $"peak_rss_mb={ProcessMemory.PeakRssMegabytes():F0}"));
        Console.WriteLine(string.Create(culture, $"peak_rss_before_evaluation_mb={before:F0}"));
        Console.WriteLine(string.Create(culture, $"precision_at_1={metrics.PrecisionAt1:F6}"));
        Console.WriteLine(string.Create(culture, $"r_precision={metrics.RPrecision:F6}"));
        Console.WriteLine(string.Create(culture, $"map_at_r={metrics.MapAtR:F6}"));
        if (!clustering)
            return 0;

        // One k-means run as RetrievalEvaluationOptions.Clustering does it (as many clusters as classes, 20
        // iterations), timed apart from the scores of its clustering.
        clock.Restart();
        var (assignments, inertia, iterations) = KMeans.FitRuns(embeddings, classes, seed: 0, iterations: 20, restarts: 1, RetrievalEvaluator.DefaultChunkBytes, iterationDone: null);
        Console.WriteLine(string.Create(culture, $"kmeans_seconds={clock.Elapsed.TotalSeconds:F2}"));
        // Iterations that moved centres; fewer than 20 when the run reached a fixed point.
        Console.WriteLine(string.Create(culture, $"kmeans_iterations={iterations}"));
        Console.WriteLine(string.Create(culture, $"kmeans_inertia={inertia:F3}"));
        clock.Restart();
        double nmi = ClusteringScores.NormalizedMutualInformation(labels, assignments);
        double ami = ClusteringScores.AdjustedMutualInformation(labels, assignments);
        Console.WriteLine(string.Create(culture, $"scores_seconds={clock.Elapsed.TotalSeconds:F2}"));
        Console.WriteLine(string.Create(culture, $"nmi={nmi:F6}"));
        Console.WriteLine(string.Create(culture, $"ami={ami:F6}"));
        Console.WriteLine(string.Create(culture, $"peak_rss_after_clustering_mb={ProcessMemory.PeakRssMegabytes():F0}"));
        return 0;
    }
}
