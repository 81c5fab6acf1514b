using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using Microsoft.Extensions.Logging;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MetricLearning.Training;

/// <summary>What a run of <see cref="TrainingLoop"/> needs besides the network and the feeder.</summary>
/// <param name="Optimizer">The optimizer and its settings.</param>
/// <param name="Schedule">How the learning rate changes between epochs.</param>
/// <param name="Epochs">How many epochs the run has.</param>
/// <param name="Checkpoint">Where and how often to save a checkpoint, and whether to resume one.</param>
/// <param name="Identity">What the run is, checked against a checkpoint before it is resumed.</param>
/// <param name="TrainerName">The trainer's name, for log messages and metric tags.</param>
/// <param name="Logger">Receives the run's log events.</param>
/// <param name="StepProgress">Receives progress within each epoch, a few times a second; null for none.</param>
/// <param name="Parts">
/// The loss and miner (either may be null): told when each epoch begins when they are <see cref="IEpochAware"/>, and
/// their <see cref="ITrainingState"/> saved in checkpoints.
/// </param>
internal sealed record LoopSettings(
    OptimizerSettings Optimizer,
    LearningRateSchedule Schedule,
    int Epochs,
    CheckpointOptions Checkpoint,
    TrainingIdentity Identity,
    string TrainerName,
    ILogger Logger,
    IProgress<StepReport>? StepProgress,
    IReadOnlyList<object?>? Parts = null);

/// <summary>
/// The one training loop behind <see cref="SiameseTrainer"/> and <see cref="EmbeddingTrainer"/>: it owns the epochs,
/// the optimizer and its learning-rate schedule, cancellation, the guard against a diverged loss, progress, the
/// per-epoch garbage collection and checkpoints; a feeder (<see cref="ITrainingFeeder{TReport}"/>) supplies each
/// step's loss and each epoch's measurements.
/// </summary>
internal static class TrainingLoop
{
    /// <summary>Trains <paramref name="network"/> in place (from a checkpoint, if resuming) and returns every epoch's report.</summary>
    internal static IReadOnlyList<TReport> Run<TReport>(
        IEmbeddingNetwork network,
        IReadOnlyList<ParameterGroup> groups,
        LoopSettings settings,
        Device device,
        ITrainingFeeder<TReport> feeder,
        IProgress<TReport>? progress,
        CancellationToken cancellationToken)
    {
        var module = network.Module;
        string? checkpointPath = settings.Checkpoint.FilePath;
        if (checkpointPath is not null && !settings.Checkpoint.Resume && File.Exists(checkpointPath))
            throw new CheckpointException(checkpointPath,
                $"'{checkpointPath}' already holds a checkpoint; resume it (CheckpointOptions.Resume, --resume in the samples) or choose another folder.");

        using var optimizer = OptimizerFactory.Create(settings.Optimizer, groups);
        var scheduler = new LearningRateScheduler(settings.Schedule, settings.Epochs, optimizer);
        using var lossSum = zeros(1, dtype: ScalarType.Float64, device: device);
        var reports = new List<TReport>(settings.Epochs);
        var parts = (settings.Parts ?? Array.Empty<object?>()).Where(part => part is not null).Select(part => part!).ToList();
        var state = new RunState(network, groups, optimizer, feeder, lossSum, settings.Identity, parts);
        int firstEpoch = 1, firstStep = 0;
        var log = settings.Logger;
        var tag = new KeyValuePair<string, object?>(TrainingTelemetry.TrainerTag, settings.TrainerName);
        double resumedWeight = 0;
        long resumedSamples = 0;
        if (settings.Checkpoint.Resume)
        {
            (firstEpoch, firstStep, resumedWeight, resumedSamples) = state.Restore(checkpointPath!, reports);
            TrainingLog.Resumed(log, settings.TrainerName, checkpointPath!, firstEpoch, firstStep, null);
        }

        TrainingLog.Started(log, settings.TrainerName, settings.Epochs, settings.Optimizer.ToString(), settings.Schedule.ToString(), null);

        try
        {
            for (int epoch = firstEpoch; epoch <= settings.Epochs; epoch++)
            {
                module.train();
                (network as IEpochAware)?.BeginEpoch(epoch);
                foreach (var part in parts)
                    (part as IEpochAware)?.BeginEpoch(epoch);
                byte[]? epochStart = feeder.CaptureState();
                int resumeStep = epoch == firstEpoch ? firstStep : 0;
                if (resumeStep == 0)
                    lossSum.zero_();
                if (cancellationToken.IsCancellationRequested)
                    state.SaveAndCancel(checkpointPath, epoch, resumeStep, epochStart, reports, 0, 0, log, settings.TrainerName, cancellationToken);

                int steps = feeder.BeginEpoch(epoch);
                var clock = Stopwatch.StartNew();
                // A resumed epoch continues its running totals (the loss total is restored with them).
                double weightSoFar = resumeStep == 0 ? 0 : resumedWeight, lastStepReport = 0;
                long samplesSoFar = resumeStep == 0 ? 0 : resumedSamples;
                try
                {
                    for (int step = resumeStep; step < steps; step++)
                    {
                        if (cancellationToken.IsCancellationRequested)
                            state.SaveAndCancel(checkpointPath, epoch, step, epochStart, reports, weightSoFar, samplesSoFar, log, settings.TrainerName, cancellationToken);

                        using var scope = NewDisposeScope();
                        var loss = feeder.StepLoss(step, out var weight, out double weightValue, out int samples);
                        if (!feeder.WritesGradients)
                        {
                            optimizer.ZeroGrad();
                            loss.backward();
                        }

                        optimizer.Step();
                        // The running total stays on the device: reading it each step would synchronise.
                        lossSum.add_(loss.detach(), alpha: weight);
                        weightSoFar += weightValue;
                        samplesSoFar += samples;
                        TrainingTelemetry.Steps.Add(1, tag);
                        TrainingTelemetry.Samples.Add(samples, tag);
                        // Step progress reads the running loss (one synchronisation) at most five times a second.
                        if (settings.StepProgress is { } stepProgress
                            && clock.Elapsed.TotalSeconds is var elapsed && (elapsed - lastStepReport >= 0.2 || step == steps - 1))
                        {
                            lastStepReport = elapsed;
                            stepProgress.Report(new StepReport(epoch, settings.Epochs, step + 1, steps,
                                lossSum.item<double>() / weightSoFar, samplesSoFar / Math.Max(elapsed, 1e-9)));
                        }
                    }

                    if (epoch < settings.Epochs)
                        scheduler.EpochCompleted(epoch);
                    double meanLoss = lossSum.item<double>() / feeder.EpochLossDivisor;
                    double trainSeconds = clock.Elapsed.TotalSeconds;
                    if (!double.IsFinite(meanLoss))
                    {
                        TrainingLog.Diverged(log, settings.TrainerName, epoch, meanLoss, null);
                        throw new TrainingDivergedException(epoch, meanLoss);
                    }

                    TrainingTelemetry.Loss.Record(meanLoss, tag);
                    TrainingTelemetry.EpochDuration.Record(trainSeconds, tag);
                    TrainingTelemetry.Throughput.Record(samplesSoFar / Math.Max(trainSeconds, 1e-9), tag);
                    reports.Add(feeder.Report(epoch, meanLoss, trainSeconds));
                    TrainingLog.EpochCompleted(log, settings.TrainerName, epoch, settings.Epochs, meanLoss, trainSeconds, null);
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
                if (checkpointPath is not null && (epoch % settings.Checkpoint.EveryEpochs == 0 || epoch == settings.Epochs))
                {
                    state.SaveIfConfigured(checkpointPath, epoch + 1, 0, feeder.CaptureState(), reports, 0, 0);
                    TrainingLog.CheckpointSaved(log, settings.TrainerName, checkpointPath, epoch, null);
                }
            }
        }
        finally
        {
            module.eval();
        }

        return reports;
    }

    /// <summary>Everything a checkpoint holds, saved from and restored into the live objects of a run.</summary>
    private sealed class RunState(
        IEmbeddingNetwork network,
        IReadOnlyList<ParameterGroup> groups,
        IStepOptimizer optimizer,
        ITrainingFeederState feeder,
        Tensor lossSum,
        TrainingIdentity identity,
        IReadOnlyList<object> parts)
    {
        private const string NetworkPrefix = "network/";

        /// <summary>The state tensors of the loss and miner (<see cref="ITrainingState"/>), with stable names.</summary>
        private IEnumerable<(string Name, Tensor Tensor)> PartStates() => parts
            .Select((part, i) => (Part: part as ITrainingState, Index: i))
            .Where(p => p.Part is not null)
            .SelectMany(p => p.Part!.TrainingState.Select(entry => ($"part/{p.Index}/{parts[p.Index].GetType().Name}/{entry.Key}", entry.Value)));

        /// <summary>Parameters trained here that are not the network's (a loss's proxies), with stable names.</summary>
        private IEnumerable<(string Name, Parameter Parameter)> OwnParameters()
        {
            var inNetwork = network.Module.parameters().Select(p => p.Handle).ToHashSet();
            foreach (var group in groups)
            {
                for (int i = 0; i < group.Parameters.Count; i++)
                {
                    if (!inNetwork.Contains(group.Parameters[i].Handle))
                        yield return ($"group/{group.Name}/{i}", group.Parameters[i]);
                }
            }
        }

        /// <summary>Saves a checkpoint at the step where training was cancelled, then throws the cancellation.</summary>
        internal void SaveAndCancel<TReport>(string? path, int epoch, int step, byte[]? feederState, List<TReport> reports,
            double weightSoFar, long samplesSoFar, ILogger log, string trainer, CancellationToken cancellationToken)
        {
            try
            {
                SaveIfConfigured(path, epoch, step, feederState, reports, weightSoFar, samplesSoFar);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The cancellation stays the reason the run stopped; the failed save travels with it.
                TrainingLog.Cancelled(log, trainer, epoch, step, ex);
                throw new OperationCanceledException($"Training was cancelled, and the checkpoint '{path}' could not be saved: {ex.Message}", ex, cancellationToken);
            }

            TrainingLog.Cancelled(log, trainer, epoch, step, null);
            cancellationToken.ThrowIfCancellationRequested();
        }

        internal void SaveIfConfigured<TReport>(string? path, int epoch, int step, byte[]? feederState, List<TReport> reports, double weightSoFar, long samplesSoFar)
        {
            if (path is null)
                return;
            var blobs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var (name, tensor) in network.Module.state_dict())
                blobs[NetworkPrefix + name] = TensorBlob.Encode(tensor);
            foreach (var (name, parameter) in OwnParameters())
                blobs[name] = TensorBlob.Encode(parameter);
            foreach (var (name, tensor) in PartStates())
                blobs[name] = TensorBlob.Encode(tensor);
            blobs["optimizer"] = optimizer.SaveState();
            using (var rng = get_rng_state())
                blobs["rng/torch"] = TensorBlob.Encode(rng);
            if (feederState is not null)
                blobs["feeder"] = feederState;
            blobs["lossSum"] = TensorBlob.Encode(lossSum);

            var description = new JsonObject
            {
                ["format"] = CheckpointFile.Format,
                ["epoch"] = epoch,
                ["step"] = step,
                ["weightSoFar"] = weightSoFar,
                ["samplesSoFar"] = samplesSoFar,
                ["learningRates"] = new JsonArray(Enumerable.Range(0, optimizer.GroupCount).Select(g => (JsonNode?)optimizer.GetLearningRate(g)).ToArray()),
                ["reports"] = JsonSerializer.SerializeToNode(reports),
                ["identity"] = identity.ToJson(),
                ["device"] = lossSum.device.ToString(),
                ["threads"] = get_num_threads(),
                ["writtenUtc"] = DateTime.UtcNow.ToString("O"),
            };
            new CheckpointFile(description, blobs).Write(path);
        }

        /// <summary>Restores the run from the checkpoint at <paramref name="path"/>; returns the epoch and step to continue from.</summary>
        /// <exception cref="CheckpointException">The checkpoint is missing, damaged, or from a different run.</exception>
        internal (int Epoch, int Step, double WeightSoFar, long SamplesSoFar) Restore<TReport>(string path, List<TReport> reports)
        {
            if (!File.Exists(path))
                throw new CheckpointException(path, $"There is no checkpoint to resume at '{path}'.");
            var file = CheckpointFile.Read(path);
            try
            {
                if (identity.FirstDifference(file.Description["identity"] as JsonObject) is { } difference)
                    throw new CheckpointException(path, $"The checkpoint '{path}' is from a different run: {difference}. Resume with the same settings, network, loss and data, or choose another checkpoint folder.");

                // Everything is read and checked before anything is changed, so a checkpoint refused half-way leaves
                // the caller's network and loss as they were. The optimizer is this run's own and goes if Fit throws.
                byte[] Blob(string name) => file.Blobs.TryGetValue(name, out var bytes) ? bytes : throw new InvalidDataException($"it has no '{name}'");
                var targets = network.Module.state_dict().Select(entry => (Blob: Blob(NetworkPrefix + entry.Key), Target: entry.Value, Name: entry.Key))
                    .Concat(OwnParameters().Select(entry => (Blob: Blob(entry.Name), Target: (Tensor)entry.Parameter, entry.Name)))
                    .Concat(PartStates().Select(entry => (Blob: Blob(entry.Name), Target: entry.Tensor, entry.Name)))
                    .ToList();
                foreach (var (blob, target, name) in targets)
                    TensorBlob.Check(blob, target, name);
                using var rng = get_rng_state();
                TensorBlob.Check(Blob("rng/torch"), rng, "torch's random generator");
                TensorBlob.Check(Blob("lossSum"), lossSum, "the epoch's loss total");
                var rates = file.Description["learningRates"]?.AsArray().Select(node => node?.GetValue<double>() ?? throw new InvalidDataException("a learning rate is null")).ToArray() ?? Array.Empty<double>();
                if (rates.Length != optimizer.GroupCount || rates.Any(rate => !double.IsFinite(rate) || rate <= 0))
                    throw new InvalidDataException($"its learning rates [{string.Join(", ", rates)}] are not {optimizer.GroupCount} positive, finite numbers");
                var history = file.Description["reports"].Deserialize<List<TReport>>() ?? throw new InvalidDataException("it has no history");
                int epoch = file.Description["epoch"]?.GetValue<int>() ?? throw new InvalidDataException("it has no epoch");
                int step = file.Description["step"]?.GetValue<int>() ?? throw new InvalidDataException("it has no step");
                double weightSoFar = file.Description["weightSoFar"]?.GetValue<double>() ?? throw new InvalidDataException("it has no running weight");
                long samplesSoFar = file.Description["samplesSoFar"]?.GetValue<long>() ?? throw new InvalidDataException("it has no running sample count");
                if (epoch < 1 || step < 0 || history.Count != epoch - 1 || !double.IsFinite(weightSoFar) || weightSoFar < 0 || samplesSoFar < 0)
                    throw new InvalidDataException($"its position (epoch {epoch}, step {step}) does not match its history of {history.Count} epochs");

                optimizer.LoadState(Blob("optimizer"));
                for (int group = 0; group < rates.Length; group++)
                    optimizer.SetLearningRate(group, rates[group]);
                if (file.Blobs.TryGetValue("feeder", out var feederState))
                    feeder.RestoreState(feederState);
                TensorBlob.Restore(Blob("rng/torch"), rng, "torch's random generator");
                set_rng_state(rng);
                foreach (var (blob, target, name) in targets)
                    TensorBlob.Restore(blob, target, name);
                TensorBlob.Restore(Blob("lossSum"), lossSum, "the epoch's loss total");
                reports.AddRange(history);
                return (epoch, step, weightSoFar, samplesSoFar);
            }
            catch (Exception ex) when (ex is InvalidDataException or JsonException or InvalidOperationException or FormatException
                                           or ArgumentException or System.Runtime.InteropServices.ExternalException)
            {
                // ExternalException: libtorch refusing a generator state; ArgumentException: a value out of range.
                throw new CheckpointException(path, $"The checkpoint '{path}' cannot be resumed: {ex.Message.TrimEnd('.')}.", ex);
            }
        }
    }
}
