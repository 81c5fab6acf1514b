using System;
using System.Collections.Generic;
using System.Threading;
using MetricLearning.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MetricLearning.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Training;

/// <summary>
/// Trains a <see cref="SiameseNetwork"/> on pairs with a pair loss (<see cref="ILoss"/>, such as
/// <see cref="Losses.ContrastiveLoss"/>); by default with the reference experiment's RMSprop.
/// </summary>
/// <remarks>
/// <para>
/// Each epoch shuffles the training pairs (a permutation drawn from a generator seeded with
/// <see cref="TrainerOptions.Seed"/>), then for each batch gathers both inputs of each pair from the resident
/// <see cref="InputSet"/>, embeds them in one pass, and takes one optimiser step; the last batch may be partial.
/// After each epoch it measures pair accuracy (dropout off) and reports an <see cref="EpochReport"/>.
/// The optimizer and learning-rate schedule are <see cref="TrainerOptions.Optimizer"/> and
/// <see cref="TrainerOptions.Schedule"/>; the weights trained are the network's parameter groups (all its parameters,
/// unless it implements <see cref="ITrainableParameters"/>) and the loss's, if it has any.
/// </para>
/// <para>
/// With the library's pair losses the step loop makes no host/device copies and no synchronisation: the running loss
/// stays on the device and is read once per epoch (and at most five times a second when <see cref="StepProgress"/> is
/// set). Cancellation is honoured between steps. Same seed, device and
/// thread count: same result.
/// Not thread-safe; run one <c>Fit</c> at a time per trainer, on one thread (dispose scopes are per thread).
/// </para>
/// </remarks>
public sealed class SiameseTrainer
{
    /// <summary>Creates a trainer.</summary>
    /// <param name="loss">The pair loss to minimise, for example <c>new ContrastiveLoss()</c> (Hadsell's, margin 1, as in the reference experiment).</param>
    /// <param name="options">Settings; null for the reference experiment's. Copied and validated.</param>
    /// <param name="sampler">
    /// Draws the pairs when training on <see cref="LabelledData"/>; null for an <see cref="AlternatingPairSampler"/>
    /// seeded with <see cref="TrainerOptions.Seed"/>.
    /// </param>
    /// <exception cref="ArgumentException">An option is out of range (<see cref="ArgumentOutOfRangeException"/>), missing
    /// (<see cref="ArgumentNullException"/>) or inconsistent, or the loss is null.</exception>
    public SiameseTrainer(ILoss loss, TrainerOptions? options = null, IPairSampler? sampler = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        Loss = loss;
        Options = (options ?? new TrainerOptions()).Clone();
        Options.Validate();
        Sampler = sampler ?? new AlternatingPairSampler(Options.Seed);
    }

    /// <summary>The loss being minimised.</summary>
    public ILoss Loss { get; }

    /// <summary>Draws the pairs when training on <see cref="LabelledData"/>.</summary>
    public IPairSampler Sampler { get; }

    /// <summary>The settings (a validated copy).</summary>
    public TrainerOptions Options { get; }

    /// <summary>
    /// Receives the run's log events (the step chosen, start, each epoch, checkpoints, resume, cancellation, divergence; ids in
    /// <see cref="TrainingTelemetry"/>). Default: none.
    /// </summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>Receives progress within each epoch (step, running loss, throughput) a few times a second; null (the default) for none.</summary>
    public IProgress<StepReport>? StepProgress { get; init; }

    /// <summary>
    /// Trains <paramref name="model"/> in place on pairs that <see cref="Sampler"/> draws from labelled data.
    /// Otherwise as <see cref="Fit(SiameseNetwork, PairDataset, PairDataset?, IProgress{EpochReport}?, CancellationToken)"/>.
    /// </summary>
    /// <param name="model">The model; its network's parameters are updated.</param>
    /// <param name="training">Labelled training inputs, on the model's device.</param>
    /// <param name="validation">Labelled inputs whose pairs are measured after each epoch, or null.</param>
    /// <param name="progress">Receives one report per epoch, or null.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <returns>The report of every epoch, in order.</returns>
    /// <exception cref="TrainingDivergedException">An epoch's mean loss was NaN or infinite.</exception>
    /// <exception cref="ArgumentException">The inputs are not on the model's device, or the sampler drew no pairs.</exception>
    /// <exception cref="OperationCanceledException">Cancellation was requested (after a checkpoint is saved, if checkpoints are on).</exception>
    /// <exception cref="CheckpointException">Resuming, the checkpoint is missing, damaged or from a different run; or, not resuming, the checkpoint folder already holds one.</exception>
    public IReadOnlyList<EpochReport> Fit(
        SiameseNetwork model,
        LabelledData training,
        LabelledData? validation = null,
        IProgress<EpochReport>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(training);
        var pairs = new PairDataset(training.Inputs, Sampler.Sample(training.Labels));
        var validationPairs = validation is null ? null : new PairDataset(validation.Inputs, Sampler.Sample(validation.Labels));
        return Fit(model, pairs, validationPairs, progress, cancellationToken);
    }

    /// <summary>
    /// Trains <paramref name="model"/> in place, from its current weights. Each call starts a fresh optimizer (its
    /// moments at zero, the schedule from its start) and re-seeds from <see cref="TrainerOptions.Seed"/>: a second call
    /// fine-tunes, it does not resume the first.
    /// </summary>
    /// <param name="model">The model; its network's parameters are updated.</param>
    /// <param name="training">Training pairs and inputs, on the model's device.</param>
    /// <param name="validation">Pairs measured after each epoch, or null.</param>
    /// <param name="progress">Receives one report per epoch, or null.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <returns>The report of every epoch, in order.</returns>
    /// <exception cref="TrainingDivergedException">An epoch's mean loss was NaN or infinite.</exception>
    /// <exception cref="ArgumentException">The inputs are not on the model's device, or a parameter is in two parameter groups.</exception>
    /// <exception cref="OperationCanceledException">Cancellation was requested (after a checkpoint is saved, if checkpoints are on).</exception>
    /// <exception cref="CheckpointException">Resuming, the checkpoint is missing, damaged or from a different run; or, not resuming, the checkpoint folder already holds one.</exception>
    public IReadOnlyList<EpochReport> Fit(
        SiameseNetwork model,
        PairDataset training,
        PairDataset? validation = null,
        IProgress<EpochReport>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(training);
        var device = model.Device;
        training.Inputs.CheckDevice(device);
        if (validation is not null)
            validation.Inputs.CheckDevice(device);

        var groups = TrainingParameters.Collect(model.Embedding, Loss);
        // The fused step is asked of the network and the loss through their seams (IFusedNetwork, IFusedPairLoss).
        string? notFused = Options.FusedStep ? null : $"{nameof(TrainerOptions)}.{nameof(TrainerOptions.FusedStep)} is false";
        var fused = notFused is null ? FusedPairStep.TryCreate(model, Loss, training.Inputs, PairFeeder.MaxPairs(Options, training), out notFused) : null;
        PairFeeder feeder;
        TrainingIdentity identity;
        try
        {
            identity = Options.Checkpoint.Folder is null ? new TrainingIdentity() : Identity(model, groups, training, validation).AddStep(notFused is null);
            TrainingIdentity.LogStep(Logger, nameof(SiameseTrainer), notFused);
            manual_seed(Options.Seed);
            feeder = new PairFeeder(model, Loss, Options, training, validation, fused);
        }
        catch
        {
            fused?.Dispose();
            throw;
        }

        using var _ = feeder;
        var settings = new LoopSettings(Options.Optimizer, Options.Schedule, Options.Epochs, Options.Checkpoint, identity, nameof(SiameseTrainer), Logger, StepProgress);
        return TrainingLoop.Run(model.Embedding, groups, settings, device, feeder, progress, cancellationToken);
    }

    /// <summary>What this run is, for checking a checkpoint against it.</summary>
    private TrainingIdentity Identity(SiameseNetwork model, IReadOnlyList<ParameterGroup> groups, PairDataset training, PairDataset? validation)
    {
        var identity = new TrainingIdentity()
            .Add("trainer", nameof(SiameseTrainer))
            .AddOptions(Options)
            .AddNetwork(model.Embedding)
            .AddComponent("network.settings", model.Embedding)
            .AddGroups(groups)
            .AddComponent("distance", model.Distance)
            .AddComponent("loss", Loss)
            .AddInputs("training", training.Inputs)
            .AddHash("training.pairs", PairValues(training.Pairs));
        if (validation is not null)
            identity.AddInputs("validation", validation.Inputs).AddHash("validation.pairs", PairValues(validation.Pairs));
        return identity;
    }

    private static IEnumerable<int> PairValues(PairSet pairs)
    {
        for (int i = 0; i < pairs.Count; i++)
        {
            yield return pairs.First[i];
            yield return pairs.Second[i];
            yield return pairs.IsSame[i] ? 1 : 0;
        }
    }
}
