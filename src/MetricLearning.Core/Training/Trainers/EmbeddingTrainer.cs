using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using MetricLearning.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace MetricLearning.Training;

/// <summary>
/// Trains an embedding network with a batch loss (<see cref="IBatchLoss"/>), optionally on the pairs or triplets a
/// miner (<see cref="IMiner"/>) picks, on batches of M samples per class (<see cref="MPerClassSampler"/>); by default
/// with Adam and a cosine-annealed learning rate (<see cref="EmbeddingTrainerOptions.Optimizer"/>,
/// <see cref="EmbeddingTrainerOptions.Schedule"/>).
/// </summary>
/// <remarks>
/// Training on an <see cref="InputSet"/>, each epoch's batches are drawn on the host and moved to the device once, as
/// one index tensor; the step loop itself then copies nothing between host and device, except what the loss, miner or
/// augmentation does (losses with class vectors read the labels' range to check it; an augmentation uploads its
/// parameters; miners return a data-dependent number of indices, <c>nonzero</c>, which synchronises). Training on an
/// <see cref="ILabelledSource"/>, each step's batch is read on the host and copied to the device. The loss total is
/// read once per epoch, and at most five times a second when <see cref="StepProgress"/> is set. After each epoch the spread of one batch's
/// embeddings is measured, and training stops with an <see cref="EmbeddingCollapseException"/> if they have collapsed.
/// The weights trained are the network's parameter groups (all its parameters, unless it implements
/// <see cref="ITrainableParameters"/>) and the loss's, if it has weights of its own (class proxies), each group at
/// its own learning rate. Cancellation is honoured
/// between steps. Not thread-safe; one <c>Fit</c> at a time, on one thread.
/// </remarks>
public sealed class EmbeddingTrainer
{
    /// <summary>Creates a trainer.</summary>
    /// <param name="loss">The batch loss to minimise.</param>
    /// <param name="options">Settings; null for the defaults. Copied and validated.</param>
    /// <param name="miner">Picks the pairs or triplets of each batch the loss learns from; null for all of them.</param>
    /// <exception cref="ArgumentException">An option is out of range (<see cref="ArgumentOutOfRangeException"/>), missing
    /// (<see cref="ArgumentNullException"/>) or inconsistent, or the loss is null.</exception>
    public EmbeddingTrainer(IBatchLoss loss, EmbeddingTrainerOptions? options = null, IMiner? miner = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        Loss = loss;
        Miner = miner;
        Options = (options ?? new EmbeddingTrainerOptions()).Clone();
        Options.Validate();
    }

    /// <summary>The loss being minimised.</summary>
    public IBatchLoss Loss { get; }

    /// <summary>The miner, or null when the loss uses every valid pair or triplet.</summary>
    public IMiner? Miner { get; }

    /// <summary>The settings (a validated copy).</summary>
    public EmbeddingTrainerOptions Options { get; }

    /// <summary>
    /// Receives the run's log events (the step chosen, start, each epoch, checkpoints, resume, cancellation, divergence; ids in
    /// <see cref="TrainingTelemetry"/>). Default: none.
    /// </summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>Receives progress within each epoch (step, running loss, throughput) a few times a second; null (the default) for none.</summary>
    public IProgress<StepReport>? StepProgress { get; init; }

    /// <summary>Trains <paramref name="network"/> in place on labelled data; otherwise as the overload that takes inputs and labels.</summary>
    /// <param name="network">The network; its parameters must be on the inputs' device.</param>
    /// <param name="training">The training inputs and their classes.</param>
    /// <param name="progress">Receives one report per epoch, or null.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <returns>The report of every epoch, in order.</returns>
    /// <exception cref="EmbeddingCollapseException">The embeddings collapsed to one direction; the message says what to try.</exception>
    /// <exception cref="TrainingDivergedException">An epoch's mean loss was NaN or infinite.</exception>
    /// <exception cref="OperationCanceledException">Cancellation was requested (after a checkpoint is saved, if checkpoints are on).</exception>
    /// <exception cref="CheckpointException">Resuming, the checkpoint is missing, damaged or from a different run; or, not resuming, the checkpoint folder already holds one.</exception>
    public IReadOnlyList<EmbeddingEpochReport> Fit(
        IEmbeddingNetwork network,
        LabelledData training,
        IProgress<EmbeddingEpochReport>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(training);
        return Fit(network, training.Inputs, training.Labels, progress, cancellationToken);
    }

    /// <summary>
    /// Trains <paramref name="network"/> in place, from its current weights. Each call starts a fresh optimizer (its
    /// moments at zero, the learning-rate schedule from its start) and re-seeds from
    /// <see cref="EmbeddingTrainerOptions.Seed"/>: a second call fine-tunes, it does not resume the first.
    /// </summary>
    /// <param name="network">The network; its parameters must be on the inputs' device.</param>
    /// <param name="inputs">The training inputs.</param>
    /// <param name="labels">The class of each input.</param>
    /// <param name="progress">Receives one report per epoch, or null.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <returns>The report of every epoch, in order.</returns>
    /// <exception cref="EmbeddingCollapseException">The embeddings collapsed to one direction; the message says what to try.</exception>
    /// <exception cref="TrainingDivergedException">An epoch's mean loss was NaN or infinite.</exception>
    /// <exception cref="OperationCanceledException">Cancellation was requested (after a checkpoint is saved, if checkpoints are on).</exception>
    /// <exception cref="CheckpointException">Resuming, the checkpoint is missing, damaged or from a different run; or, not resuming, the checkpoint folder already holds one.</exception>
    public IReadOnlyList<EmbeddingEpochReport> Fit(
        IEmbeddingNetwork network,
        InputSet inputs,
        IReadOnlyList<int> labels,
        IProgress<EmbeddingEpochReport>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count != inputs.Count)
            throw new ArgumentException($"There are {labels.Count} labels for {inputs.Count} inputs.", nameof(labels));
        var device = network.Module.parameters().FirstOrDefault()?.device ?? CPU;
        inputs.CheckDevice(device);

        // The fused step is asked of the network and the loss through their seams (IFusedNetwork, IFusedBatchLoss);
        // it is made here, before the run is identified and logged, and handed to the feeder, which owns it.
        string? notFused = !Options.FusedStep ? $"{nameof(EmbeddingTrainerOptions)}.{nameof(EmbeddingTrainerOptions.FusedStep)} is false"
            : Options.Augmentation is not null ? "the batches are augmented"
            : null;
        var fused = notFused is null ? FusedBatchStep.TryCreate(network, Loss, Miner, inputs, labels, Options.BatchSize, out notFused) : null;
        try
        {
            return Run(network, device,
                identity => identity
                    .AddInputs("training", inputs)
                    .AddPreprocessing("training.preprocessing", inputs.Preprocessing)
                    .AddHash("training.labels", labels),
                notFused,
                () => new BatchFeeder(network, Loss, Miner, Options, inputs, labels, device, Interlocked.Exchange(ref fused, null)),
                progress, cancellationToken);
        }
        finally
        {
            // Freed here only if the feeder never took it (the run failed before making the feeder).
            fused?.Dispose();
        }
    }

    /// <summary>
    /// Trains <paramref name="network"/> in place on data read a batch at a time from <paramref name="source"/> (an
    /// image folder decoded as it goes, an IDX file, ...), <see cref="EmbeddingTrainerOptions.PrefetchBatches"/> steps
    /// ahead on worker threads (0: on the training thread when each step needs it); otherwise as the overload that takes inputs and labels.
    /// </summary>
    /// <param name="network">The network; the source's batches are moved to its device.</param>
    /// <param name="source">The training data.</param>
    /// <param name="progress">Receives one report per epoch, or null.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <returns>The report of every epoch, in order.</returns>
    /// <exception cref="EmbeddingCollapseException">The embeddings collapsed to one direction; the message says what to try.</exception>
    /// <exception cref="TrainingDivergedException">An epoch's mean loss was NaN or infinite.</exception>
    /// <exception cref="OperationCanceledException">Cancellation was requested (after a checkpoint is saved, if checkpoints are on).</exception>
    /// <exception cref="CheckpointException">Resuming, the checkpoint is missing, damaged or from a different run; or, not resuming, the checkpoint folder already holds one.</exception>
    /// <exception cref="System.IO.InvalidDataException">The source could not read an input (the message names it).</exception>
    public IReadOnlyList<EmbeddingEpochReport> Fit(
        IEmbeddingNetwork network,
        ILabelledSource source,
        IProgress<EmbeddingEpochReport>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(source);
        if (source.Labels is null || source.Labels.Count != source.Count)
            throw new ArgumentException($"The source has {source.Labels?.Count ?? 0} labels for {source.Count} inputs.", nameof(source));
        var device = network.Module.parameters().FirstOrDefault()?.device ?? CPU;

        // A streamed source is identified by its type, size, input shape and labels; its inputs are not hashed (that
        // would read them all).
        return Run(network, device,
            identity => identity
                .Add("training.source", $"{source.GetType().FullName} {source.Count} [{string.Join(", ", source.InputShape)}]")
                .AddPreprocessing("training.preprocessing", source.Preprocessing)
                .AddHash("training.labels", source.Labels),
            "the data is streamed from a source",
            () => new BatchFeeder(network, Loss, Miner, Options, source, device),
            progress, cancellationToken);
    }

    /// <summary>
    /// The part both ways in share: the run's identity (settings, then the data's), the step's choice (null
    /// <paramref name="notFused"/>: the fused step), the seed, the loop.
    /// </summary>
    private IReadOnlyList<EmbeddingEpochReport> Run(
        IEmbeddingNetwork network,
        Device device,
        Func<TrainingIdentity, TrainingIdentity> describeData,
        string? notFused,
        Func<BatchFeeder> createFeeder,
        IProgress<EmbeddingEpochReport>? progress,
        CancellationToken cancellationToken)
    {
        var groups = TrainingParameters.Collect(network, Loss);
        var identity = Options.Checkpoint.Folder is null
            ? new TrainingIdentity()
            : describeData(new TrainingIdentity()
                .Add("trainer", nameof(EmbeddingTrainer))
                .AddOptions(Options)
                .AddNetwork(network)
                .AddComponent("network.settings", network)
                .AddGroups(groups)
                .AddComponent("loss", Loss)
                .AddComponent("miner", Miner)
                .AddComponent("augmentation", Options.Augmentation)
                .AddStep(notFused is null));
        TrainingIdentity.LogStep(Logger, nameof(EmbeddingTrainer), notFused);
        manual_seed(Options.Seed);
        using var feeder = createFeeder();
        var settings = new LoopSettings(Options.Optimizer, Options.Schedule, Options.Epochs, Options.Checkpoint, identity, nameof(EmbeddingTrainer), Logger, StepProgress, new object?[] { Loss, Miner });
        return TrainingLoop.Run(network, groups, settings, device, feeder, progress, cancellationToken);
    }
}
