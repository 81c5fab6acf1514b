using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using static TorchSharp.torch;

namespace MetricLearning.Training;

/// <summary>
/// The one training loop behind <see cref="SiameseTrainer"/> and <see cref="EmbeddingTrainer"/>: it owns the epochs,
/// the optimizer and its learning-rate schedule, seeding, cancellation, the guard against a diverged loss, progress
/// and the per-epoch garbage collection; a feeder (<see cref="ITrainingFeeder{TReport}"/>) supplies each step's loss
/// and each epoch's measurements.
/// </summary>
internal static class TrainingLoop
{
    /// <summary>Trains <paramref name="network"/> in place and returns every epoch's report.</summary>
    internal static IReadOnlyList<TReport> Run<TReport>(
        IEmbeddingNetwork network,
        IReadOnlyList<ParameterGroup> groups,
        OptimizerSettings optimizerSettings,
        LearningRateSchedule schedule,
        int epochs,
        Device device,
        ITrainingFeeder<TReport> feeder,
        IProgress<TReport>? progress,
        CancellationToken cancellationToken)
    {
        var module = network.Module;
        using var optimizer = OptimizerFactory.Create(optimizerSettings, groups);
        var scheduler = new LearningRateScheduler(schedule, epochs, optimizer);
        using var lossSum = zeros(1, dtype: ScalarType.Float64, device: device);
        var reports = new List<TReport>(epochs);
        try
        {
            for (int epoch = 1; epoch <= epochs; epoch++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                module.train();
                int steps = feeder.BeginEpoch(epoch);
                var clock = Stopwatch.StartNew();
                lossSum.zero_();
                try
                {
                    for (int step = 0; step < steps; step++)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        using var scope = NewDisposeScope();
                        var loss = feeder.StepLoss(step, out var weight);
                        optimizer.ZeroGrad();
                        loss.backward();
                        optimizer.Step();
                        // The running total stays on the device: reading it each step would synchronise.
                        lossSum.add_(loss.detach(), alpha: weight);
                    }

                    if (epoch < epochs)
                        scheduler.EpochCompleted(epoch);
                    double meanLoss = lossSum.item<double>() / feeder.EpochLossDivisor;
                    double trainSeconds = clock.Elapsed.TotalSeconds;
                    if (!double.IsFinite(meanLoss))
                        throw new TrainingDivergedException(epoch, meanLoss);
                    reports.Add(feeder.Report(epoch, meanLoss, trainSeconds));
                }
                finally
                {
                    feeder.EndEpoch();
                }

                // TorchSharp releases some native memory (Scalars and other small handles made inside its own calls)
                // only when their finalizers run, and a training pass allocates too little managed memory to trigger
                // a collection: without this the process grew by about 20 MB per epoch until the first one (measured
                // on MNIST). One collection per epoch keeps memory flat and costs milliseconds.
                GC.Collect();
                GC.WaitForPendingFinalizers();
                progress?.Report(reports[^1]);
                feeder.CheckProgress(reports);
            }
        }
        finally
        {
            module.eval();
        }

        return reports;
    }
}
