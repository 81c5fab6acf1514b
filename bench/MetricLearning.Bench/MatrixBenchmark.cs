using System;
using System.Diagnostics;
using System.Globalization;
using MetricLearning.Distances;
using MetricLearning.Runtime;
using static TorchSharp.torch;

namespace MetricLearning.Bench;

/// <summary>
/// Every row of one large set against every row of another (10⁵ by 10⁵ by default) in blocks, each reduced to its
/// row-wise nearest distance: the time and the peak memory of the whole comparison.
/// </summary>
internal static class MatrixBenchmark
{
    internal static int Run(long rows, long dimension, int threads, long blockBytes)
    {
        TorchRuntime.SetThreadCount(threads);
        manual_seed(1);
        using var queries = randn(rows, dimension);
        using var references = randn(rows, dimension);
        using var nearest = empty(rows);
        var distance = new LpDistance(2);
        double inputMegabytes = 2.0 * rows * dimension * 4 / 1e6;

        var clock = Stopwatch.StartNew();
        distance.ForEachBlock(queries, references, (start, block) =>
        {
            using var minimum = block.amin(new long[] { 1 });
            nearest.narrow(0, start, block.shape[0]).copy_(minimum);
        }, blockBytes);
        double seconds = clock.Elapsed.TotalSeconds;

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT matrix rows={rows} references={rows} dim={dimension} threads={TorchRuntime.ThreadCount} block_mb={blockBytes / (1024.0 * 1024):F0} " +
            $"seconds={seconds:F1} comparisons_per_sec={rows * (double)rows / seconds:E2} full_matrix_gb={rows * (double)rows * 4 / 1e9:F0} " +
            $"inputs_mb={inputMegabytes:F0} peak_rss_mb={ProcessMemory.PeakRssMegabytes():F0} mean_nearest={nearest.mean().item<float>():F3}"));
        return 0;
    }
}
