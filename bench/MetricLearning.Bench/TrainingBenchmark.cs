using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using MetricLearning.Evaluation;
using MetricLearning.Mnist;
using MetricLearning.Networks;
using MetricLearning.Runtime;
using MetricLearning.Training;
using static TorchSharp.torch;

namespace MetricLearning.Bench;

/// <summary>
/// Times the reference experiment's training pass through the library's public API, as a user would run it,
/// and relates it to the hardware: achieved GFLOP/s against a large matrix product measured in the same process.
/// </summary>
internal static class TrainingBenchmark
{
    internal static int Run(int epochs, int? threads, ComputeDevice requested, string dataFolder, int seed, bool generic = false)
    {
        var culture = CultureInfo.InvariantCulture;
        TorchRuntime.EnsureLoaded();
        TorchRuntime.SetThreadCount(threads ?? TorchRuntime.RecommendedThreadCount);
        var device = TorchRuntime.Resolve(requested);

        var mnist = MnistDataset.Load(new MetricLearning.Mnist.Acquisition.MnistAcquirer(
            new MetricLearning.Mnist.Acquisition.MnistAcquisitionOptions { CacheFolder = dataFolder }).EnsureAsync().GetAwaiter().GetResult());
        using var trainInputs = mnist.Train.ToInputSet(device);
        using var testInputs = mnist.Test.ToInputSet(device);
        var trainPairs = SiameseMnistPreset.CreatePairs(mnist.Train, trainInputs, seed);
        var testPairs = SiameseMnistPreset.CreatePairs(mnist.Test, testInputs, seed);
        using var network = SiameseMnistPreset.CreateNetwork(seed, device);
        var model = SiameseMnistPreset.CreateModel(network);
        var options = SiameseMnistPreset.TrainerOptions(seed);
        options.Epochs = epochs;
        options.EvaluateTrainingPairs = false;
        options.FusedStep = !generic;
        var loss = SiameseMnistPreset.CreateLoss();
        string? notFused = "--generic";
        if (!generic)
            FusedPairStep.TryCreate(model, loss, trainPairs.Inputs, Math.Min(options.BatchSize, trainPairs.Pairs.Count), out notFused)?.Dispose();

        var reports = new SiameseTrainer(loss, options).Fit(model, trainPairs, testPairs);
        // Epoch 1 includes warm-up (first-touch allocations, MKL's buffers, JIT): the median of the rest is the figure.
        var timed = reports.Skip(epochs > 1 ? 1 : 0).Select(r => r.TrainSeconds).OrderBy(s => s).ToArray();
        double median = timed.Length % 2 == 1 ? timed[timed.Length / 2] : (timed[timed.Length / 2 - 1] + timed[timed.Length / 2]) / 2;
        int steps = (trainPairs.Pairs.Count + options.BatchSize - 1) / options.BatchSize;
        double flops = FlopsPerEpoch(network.Options, 2L * trainPairs.Pairs.Count);
        double evalPairsPerSecond = EvaluationThroughput(model, testPairs);
        double peak = PeakGflops(device);
        double achieved = flops / median / 1e9;

        Console.WriteLine(string.Create(culture,
            $"epochs: {string.Join(" ", reports.Select(r => r.TrainSeconds.ToString("F2", culture)))} s; test_acc after {epochs}: {100 * reports[^1].ValidationAccuracy:F2}%"));
        Console.WriteLine(string.Create(culture,
            $"BENCH device={device.type.ToString().ToLowerInvariant()} threads={TorchRuntime.ThreadCount} step={(notFused is null ? "fused" : "autograd")} sec_per_epoch={median:F3} steps_per_sec={steps / median:F0} " +
            $"gflop_per_epoch={flops / 1e9:F1} gflops={achieved:F1} peak_gflops={peak:F1} peak_share={100 * achieved / peak:F0}% " +
            $"eval_pairs_per_sec={evalPairsPerSecond:F0} peak_rss_mb={ProcessMemory.PeakRssMegabytes():F0}"));
        return 0;
    }

    /// <summary>
    /// Floating-point operations of one epoch: each embedded row goes forward (2·in·out per dense layer) and
    /// backward (2·in·out for the weight gradient, and 2·in·out for the input gradient of every layer but the first).
    /// Element-wise work (activations, dropout, distance, loss, optimiser) is left out.
    /// </summary>
    internal static double FlopsPerEpoch(MlpOptions network, long rows)
    {
        double forward = 0, inputGradients = 0;
        int inputs = network.InputSize;
        for (int i = 0; i < network.LayerSizes.Count; i++)
        {
            double product = 2.0 * inputs * network.LayerSizes[i];
            forward += product;
            if (i > 0)
                inputGradients += product;
            inputs = network.LayerSizes[i];
        }

        return rows * (2 * forward + inputGradients);
    }

    private static double EvaluationThroughput(MetricLearning.Models.SiameseNetwork model, MetricLearning.Data.PairDataset pairs)
    {
        PairEvaluator.Accuracy(model, pairs);
        var clock = Stopwatch.StartNew();
        const int Rounds = 3;
        for (int i = 0; i < Rounds; i++)
            PairEvaluator.Accuracy(model, pairs);
        return Rounds * pairs.Pairs.Count / clock.Elapsed.TotalSeconds;
    }

    /// <summary>The best of several 2048×2048×2048 float32 matrix products through torch, in GFLOP/s.</summary>
    private static double PeakGflops(Device device)
    {
        const int N = 2048;
        using var scope = NewDisposeScope();
        var a = randn(N, N, device: device);
        var b = randn(N, N, device: device);
        double best = 0;
        for (int round = 0; round < 5; round++)
        {
            var clock = Stopwatch.StartNew();
            const int Products = 4;
            for (int i = 0; i < Products; i++)
            {
                using var product = a.mm(b);
            }

            if (device.type == TorchSharp.DeviceType.CUDA)
                cuda.synchronize();
            best = Math.Max(best, Products * 2.0 * N * N * N / clock.Elapsed.TotalSeconds / 1e9);
        }

        return best;
    }
}
