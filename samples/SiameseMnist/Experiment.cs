using System;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MetricLearning.Mnist;
using MetricLearning.Mnist.Acquisition;
using MetricLearning.Runtime;
using MetricLearning.Training;

namespace SiameseMnist;

/// <summary>The reference experiment: Siamese MLP, contrastive loss, MNIST pairs, as the PyTorch reference prints it.</summary>
internal static class Experiment
{
    internal static async Task<int> RunAsync(ExperimentSettings settings, CancellationToken cancellationToken)
    {
        var culture = CultureInfo.InvariantCulture;
        TorchRuntime.EnsureLoaded();
        TorchRuntime.SetThreadCount(settings.Threads);
        var device = TorchRuntime.Resolve(settings.Device);

        var acquirer = new MnistAcquirer(
            new MnistAcquisitionOptions { CacheFolder = settings.DataFolder, SourceFolder = settings.SourceFolder },
            line => Console.WriteLine($"mnist: {line}"));
        string folder = await acquirer.EnsureAsync(cancellationToken);
        var mnist = MnistDataset.Load(folder);
        var train = settings.TrainImages is int limit ? mnist.Train.Take(Math.Min(limit, mnist.Train.Count)) : mnist.Train;

        Console.WriteLine(string.Create(culture,
            $"MetricLearning Siamese MNIST: device={device.type.ToString().ToLowerInvariant()}, threads={TorchRuntime.ThreadCount}, seed={settings.Seed}, epochs={settings.Epochs}, batch={settings.BatchSize}, data={folder}"));

        using var trainInputs = train.ToInputSet(device);
        using var testInputs = mnist.Test.ToInputSet(device);
        var trainPairs = SiameseMnistPreset.CreatePairs(train, trainInputs, settings.Seed);
        var testPairs = SiameseMnistPreset.CreatePairs(mnist.Test, testInputs, settings.Seed);
        Console.WriteLine($"train pairs {trainPairs.Pairs.Count}, test pairs {testPairs.Pairs.Count}");

        using var network = SiameseMnistPreset.CreateNetwork(settings.Seed, device);
        var model = SiameseMnistPreset.CreateModel(network);
        var options = SiameseMnistPreset.TrainerOptions(settings.Seed);
        options.Epochs = settings.Epochs;
        options.BatchSize = settings.BatchSize;
        var trainer = new SiameseTrainer(SiameseMnistPreset.CreateLoss(), options);

        var progress = new ConsoleProgress();
        var epochs = trainer.Fit(model, trainPairs, testPairs, progress, cancellationToken);
        var last = epochs[^1];
        double secondsPerEpoch = epochs.Average(epoch => epoch.TrainSeconds);
        double trainAccuracy = 100 * last.TrainAccuracy!.Value;
        double testAccuracy = 100 * last.ValidationAccuracy!.Value;

        if (settings.SaveWeights is { } weights)
        {
            model.SaveWeights(weights);
            Console.WriteLine($"weights saved to {weights}");
        }

        if (settings.MetricsOut is { } metrics)
            MetricsFile.Write(metrics, settings, device.type.ToString().ToLowerInvariant(), TorchRuntime.ThreadCount, epochs, progress.RssMegabytes, secondsPerEpoch);

        if (PeakRssMegabytes() is double peak)
            Console.WriteLine(string.Create(culture, $"* Peak RSS: {peak:F0} MB"));
        Console.WriteLine(string.Create(culture, $"* Accuracy on training set: {trainAccuracy:F2}%"));
        Console.WriteLine(string.Create(culture, $"* Accuracy on test set: {testAccuracy:F2}%"));
        Console.WriteLine(string.Create(culture,
            $"RESULT epochs={settings.Epochs} train_acc={trainAccuracy:F2} test_acc={testAccuracy:F2} sec_per_epoch={secondsPerEpoch:F2}"));
        return 0;
    }

    /// <summary>The process's peak resident set (VmHWM) in MB, where the OS reports it (Linux).</summary>
    private static double? PeakRssMegabytes()
    {
        const string Status = "/proc/self/status";
        if (!System.IO.File.Exists(Status))
            return null;
        string? line = System.IO.File.ReadLines(Status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? null : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    /// <summary>Prints each epoch as it ends, on the training thread (no thread-pool hop, unlike Progress&lt;T&gt;).</summary>
    private sealed class ConsoleProgress : IProgress<EpochReport>
    {
        /// <summary>Resident memory after each epoch, in MB.</summary>
        public System.Collections.Generic.List<double> RssMegabytes { get; } = new();

        public void Report(EpochReport value)
        {
            RssMegabytes.Add(Math.Round(Environment.WorkingSet / 1048576.0));
            Print(value);
        }

        private static void Print(EpochReport value) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"epoch {value.Epoch,2}/{value.Epochs}  loss {value.Loss:F4}  train_acc {100 * value.TrainAccuracy:F2}%  test_acc {100 * value.ValidationAccuracy:F2}%  train_s {value.TrainSeconds:F2}  eval_s {value.EvaluationSeconds:F2}  rss_mb {Environment.WorkingSet / 1048576.0:F0}"));
    }
}
