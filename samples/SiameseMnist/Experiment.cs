using System;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MetricLearning.Data;
using MetricLearning.Evaluation;
using MetricLearning.Mnist;
using MetricLearning.Mnist.Acquisition;
using MetricLearning.Runtime;
using MetricLearning.Models;
using MetricLearning.Training;
using TorchSharp;
using Spectre.Console;
using System.Collections.Generic;

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

        // A folder the user names is the data used, read and validated as it is; the MNIST cache is for MNIST only.
        string folder = settings.SourceFolder ?? await new MnistAcquirer(
            new MnistAcquisitionOptions { CacheFolder = settings.DataFolder },
            line => Console.WriteLine($"mnist: {line}")).EnsureAsync(cancellationToken);
        var mnist = MnistDataset.Load(folder);
        var train = settings.TrainImages is int limit ? mnist.Train.Take(Math.Min(limit, mnist.Train.Count)) : mnist.Train;

        Console.WriteLine(string.Create(culture,
            $"MetricLearning Siamese MNIST: device={device.type.ToString().ToLowerInvariant()}, threads={TorchRuntime.ThreadCount}, seed={settings.Seed}, epochs={settings.Epochs}, batch={settings.BatchSize}, data={folder}"));

        using var trainInputs = train.ToInputSet(device);
        using var testInputs = mnist.Test.ToInputSet(device);
        var trainPairs = SiameseMnistPreset.CreatePairs(train, trainInputs, settings.Seed);
        var testPairs = SiameseMnistPreset.CreatePairs(mnist.Test, testInputs, settings.Seed);
        Console.WriteLine($"train pairs {trainPairs.Pairs.Count}, test pairs {testPairs.Pairs.Count}");

        using var network = SiameseMnistPreset.CreateNetwork(settings.Seed, device, train.InputSize);
        var model = SiameseMnistPreset.CreateModel(network);
        var options = SiameseMnistPreset.TrainerOptions(settings.Seed);
        options.Epochs = settings.Epochs;
        options.BatchSize = settings.BatchSize;
        options.Checkpoint = new CheckpointOptions { Folder = settings.CheckpointFolder, Resume = settings.Resume };
        IReadOnlyList<EpochReport> epochs;
        ConsoleProgress progress;
        if (Console.IsOutputRedirected)
        {
            // Plain lines, one per epoch, for logs and scripts (CI reads the RESULT line).
            progress = new ConsoleProgress(Console.WriteLine);
            epochs = new SiameseTrainer(SiameseMnistPreset.CreateLoss(), options).Fit(model, trainPairs, testPairs, progress, cancellationToken);
        }
        else
        {
            // On a terminal: the same lines, with a live bar of the current epoch's steps beneath them.
            progress = new ConsoleProgress(line => AnsiConsole.WriteLine(line));
            epochs = AnsiConsole.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var bar = context.AddTask("training", maxValue: 1);
                    var trainer = new SiameseTrainer(SiameseMnistPreset.CreateLoss(), options)
                    {
                        StepProgress = new SynchronousStepProgress(step =>
                        {
                            bar.Description = string.Create(culture, $"epoch {step.Epoch}/{step.Epochs}  loss {step.RunningLoss:F4}  {step.SamplesPerSecond:F0} pairs/s");
                            bar.MaxValue = step.StepsPerEpoch;
                            bar.Value = step.Step;
                        }),
                    };
                    return trainer.Fit(model, trainPairs, testPairs, progress, cancellationToken);
                });
        }

        var last = epochs[^1];
        double secondsPerEpoch = epochs.Average(epoch => epoch.TrainSeconds);
        double trainAccuracy = 100 * last.TrainAccuracy!.Value;
        double testAccuracy = 100 * last.ValidationAccuracy!.Value;

        var calibration = Calibrate(model, train, trainInputs, testPairs, settings.Seed, options.EvaluationBatchSize);

        if (settings.SaveWeights is { } weights)
        {
            model.SaveWeights(weights);
            Console.WriteLine($"weights saved to {weights}");
        }

        if (settings.MetricsOut is { } metrics)
            MetricsFile.Write(metrics, settings, device.type.ToString().ToLowerInvariant(), TorchRuntime.ThreadCount, epochs, progress.RssMegabytes, calibration, secondsPerEpoch);

        if (settings.ReportFolder is { } reportFolder)
        {
            string page = ReportWriter.Write(reportFolder, settings, epochs, model, train, trainInputs, mnist.Test, testInputs, testPairs, calibration, options.Threshold);
            Console.WriteLine($"report written to {page}");
        }

        if (PeakRssMegabytes() is double peak)
            Console.WriteLine(string.Create(culture, $"* Peak RSS: {peak:F0} MB"));
        Console.WriteLine(string.Create(culture,
            $"* Threshold calibrated on {calibration.HeldOutPairs} held-out training pairs: {calibration.Threshold:F4}; test accuracy there {100 * calibration.TestAccuracy:F2}% (at {options.Threshold}: {testAccuracy:F2}%)"));
        Console.WriteLine(string.Create(culture,
            $"* Test pairs: ROC AUC {calibration.Test.RocAuc:F4}, equal error rate {100 * calibration.Test.EqualErrorRate:F2}%"));
        Console.WriteLine(string.Create(culture, $"* Accuracy on training set: {trainAccuracy:F2}%"));
        Console.WriteLine(string.Create(culture, $"* Accuracy on test set: {testAccuracy:F2}%"));
        Console.WriteLine(string.Create(culture,
            $"RESULT epochs={settings.Epochs} train_acc={trainAccuracy:F2} test_acc={testAccuracy:F2} sec_per_epoch={secondsPerEpoch:F2}"));
        return 0;
    }

    /// <summary>
    /// Picks the distance threshold that maximises accuracy on held-out training pairs (random balanced pairs of
    /// training images, drawn with another seed than the training pairs), then applies it to the test pairs.
    /// </summary>
    private static Calibration Calibrate(SiameseNetwork model, MnistSplit train, InputSet trainInputs, PairDataset testPairs, int seed, int batchSize)
    {
        var heldOut = new PairDataset(trainInputs, new RandomPairSampler(testPairs.Pairs.Count, seed + 1).Sample(train.Labels));
        using var scope = torch.NewDisposeScope();
        var heldOutScores = PairEvaluator.Distances(model, heldOut, batchSize).cpu().data<float>().ToArray();
        var heldOutMetrics = VerificationEvaluator.Evaluate(heldOutScores, heldOut.Pairs.IsSame, model.Distance.IsSimilarity);
        var testScores = PairEvaluator.Distances(model, testPairs, batchSize).cpu().data<float>().ToArray();
        var testMetrics = VerificationEvaluator.Evaluate(testScores, testPairs.Pairs.IsSame, model.Distance.IsSimilarity);
        double threshold = heldOutMetrics.BestAccuracyThreshold;
        double testAccuracy = PairEvaluator.Accuracy(model, testPairs, threshold, batchSize);
        return new Calibration(heldOut.Pairs.Count, threshold, testAccuracy, testMetrics, testScores);
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

    /// <summary>Passes step reports on at once, on the training thread.</summary>
    private sealed class SynchronousStepProgress(Action<StepReport> onReport) : IProgress<StepReport>
    {
        public void Report(StepReport value) => onReport(value);
    }

    /// <summary>Prints each epoch as it ends, on the training thread (no thread-pool hop, unlike Progress&lt;T&gt;).</summary>
    private sealed class ConsoleProgress(Action<string> writeLine) : IProgress<EpochReport>
    {
        /// <summary>Resident memory after each epoch, in MB.</summary>
        public System.Collections.Generic.List<double> RssMegabytes { get; } = new();

        public void Report(EpochReport value)
        {
            RssMegabytes.Add(Math.Round(Environment.WorkingSet / 1048576.0));
            Print(value);
        }

        private void Print(EpochReport value) => writeLine(string.Create(CultureInfo.InvariantCulture,
            $"epoch {value.Epoch,2}/{value.Epochs}  loss {value.Loss:F4}  train_acc {100 * value.TrainAccuracy:F2}%  test_acc {100 * value.ValidationAccuracy:F2}%  train_s {value.TrainSeconds:F2}  eval_s {value.EvaluationSeconds:F2}  rss_mb {Environment.WorkingSet / 1048576.0:F0}"));
    }
}
