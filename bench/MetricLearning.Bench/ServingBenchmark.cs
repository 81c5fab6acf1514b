using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Runtime;
using static TorchSharp.torch;

namespace MetricLearning.Bench;

/// <summary>
/// Embeddings per second and latency of the reference MLP served to C concurrent callers, each asking for one
/// embedding at a time: one call at a time (TrainedModel.Embed, serialised by its lock) against EmbeddingBatcher.
/// </summary>
internal static class ServingBenchmark
{
    internal static int Run(IReadOnlyList<int> callerCounts, double seconds, int threads, int maxBatch, double maxWaitMilliseconds)
    {
        TorchRuntime.SetThreadCount(threads);
        manual_seed(1);
        using var model = new TrainedModel(new MlpEmbeddingNetwork(new MlpOptions()), new EuclideanDistance(), 0.5, new InputScaling(1f / 255f), new long[] { 784 });
        var random = new Random(1);
        var inputs = Enumerable.Range(0, 256).Select(_ => Enumerable.Range(0, 784).Select(_ => (float)random.Next(256)).ToArray()).ToArray();
        var culture = CultureInfo.InvariantCulture;
        Console.WriteLine($"Serving the 784-128-128-128 MLP, {threads} torch thread(s), {seconds} s per cell, batches of up to {maxBatch}, waiting up to {maxWaitMilliseconds} ms, {Environment.ProcessorCount} cores");
        // Single passes of a few sizes, after all of them have warmed up (the first calls of a size run slower).
        int[] sizes = { 1, 16, 36, 64 };
        for (int round = 0; round < 500; round++)
            foreach (int rows in sizes)
                model.Embed(inputs.Take(rows).ToArray());
        foreach (int rows in sizes)
        {
            var batch = inputs.Take(rows).ToArray();
            var clock = Stopwatch.StartNew();
            const int Passes = 2000;
            for (int i = 0; i < Passes; i++)
                model.Embed(batch);
            Console.WriteLine(string.Create(culture, $"one pass of {rows} row(s), on one thread: {clock.Elapsed.TotalMilliseconds * 1000 / Passes:F1} us ({clock.Elapsed.TotalMilliseconds * 1000 / Passes / rows:F2} us per row)"));
        }

        Console.WriteLine("| callers | mode | embeddings/s | p50 latency (ms) | p99 latency (ms) | forward passes |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (int callers in callerCounts)
        {
            var direct = Measure(callers, seconds, i => Task.FromResult(model.Embed(inputs[i % inputs.Length])));
            Print(callers, "one at a time", direct, direct.Count);
            using var batcher = new EmbeddingBatcher(model, new EmbeddingBatcherOptions { MaxBatchSize = maxBatch, MaxWait = TimeSpan.FromMilliseconds(maxWaitMilliseconds) });
            var batched = Measure(callers, seconds, i => batcher.EmbedAsync(inputs[i % inputs.Length]));
            Print(callers, "batched", batched, batcher.Batches);
            Console.WriteLine(string.Create(culture, $"|  |  | **{batched.Count / (double)Math.Max(1, direct.Count):F1}x** |  |  |  |"));
        }

        return 0;

        void Print(int callers, string mode, List<double> latencies, long passes)
        {
            latencies.Sort();
            double Percentile(double p) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)(p * latencies.Count))];
            Console.WriteLine(string.Create(culture,
                $"| {callers} | {mode} | {latencies.Count / seconds:F0} | {Percentile(0.5):F2} | {Percentile(0.99):F2} | {passes} |"));
        }
    }

    /// <summary>Runs <paramref name="callers"/> loops for a warm-up second and then <paramref name="seconds"/>; returns every measured call's latency in ms.</summary>
    private static List<double> Measure(int callers, double seconds, Func<int, Task<float[]>> call)
    {
        var latencies = new List<double>();
        var warmUpEnds = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
        var ends = warmUpEnds + (long)(seconds * Stopwatch.Frequency);
        var loops = Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
        {
            var mine = new List<double>();
            for (int i = c; ; i += callers)
            {
                long start = Stopwatch.GetTimestamp();
                if (start >= ends)
                    break;
                await call(i).ConfigureAwait(false);
                long stop = Stopwatch.GetTimestamp();
                if (start >= warmUpEnds && stop <= ends)
                    mine.Add((stop - start) * 1000.0 / Stopwatch.Frequency);
            }

            lock (latencies)
                latencies.AddRange(mine);
        })).ToArray();
        Task.WaitAll(loops);
        return latencies;
    }
}
