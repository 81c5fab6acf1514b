using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using MetricLearning.Data;
using MetricLearning.Evaluation;
using MetricLearning.Losses;
using MetricLearning.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Training;

/// <summary>
/// Trains a <see cref="SiameseNetwork"/> on pairs with a pair loss and RMSprop (<see cref="RmsPropOptimizer"/>), as the reference experiment does.
/// </summary>
/// <remarks>
/// <para>
/// Each epoch shuffles the training pairs (a permutation drawn from a generator seeded with
/// <see cref="TrainerOptions.Seed"/>), then for each batch gathers both inputs of each pair from the resident
/// <see cref="InputSet"/>, embeds them in one pass, and takes one optimiser step; the last batch may be partial.
/// After each epoch it measures pair accuracy (dropout off) and reports an <see cref="EpochReport"/>.
/// </para>
/// <para>
/// The step loop makes no host/device copies and no synchronisation: the running loss stays on the device and is
/// read once per epoch. Cancellation is honoured between steps. Same seed, device and thread count: same result.
/// Not thread-safe; run one <c>Fit</c> at a time per trainer, on one thread (dispose scopes are per thread).
/// </para>
/// </remarks>
public sealed class SiameseTrainer
{
    /// <summary>Creates a trainer.</summary>
    /// <param name="loss">The pair loss to minimise; null for the reference experiment's <see cref="ContrastiveLoss"/> (margin 1).</param>
    /// <param name="options">Settings; null for the reference experiment's. Copied and validated.</param>
    /// <param name="sampler">
    /// Draws the pairs when training on <see cref="LabelledData"/>; null for an <see cref="AlternatingPairSampler"/>
    /// seeded with <see cref="TrainerOptions.Seed"/>.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public SiameseTrainer(ILoss? loss = null, TrainerOptions? options = null, IPairSampler? sampler = null)
    {
        Loss = loss ?? new ContrastiveLoss();
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
    /// <exception cref="OperationCanceledException">Cancellation was requested.</exception>
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
    /// Trains <paramref name="model"/> in place, from its current weights. Each call starts a fresh optimizer (RMSprop
    /// moments at zero) and re-seeds from <see cref="TrainerOptions.Seed"/>: a second call fine-tunes, it does not
    /// resume the first.
    /// </summary>
    /// <param name="model">The model; its network's parameters are updated.</param>
    /// <param name="training">Training pairs and inputs, on the model's device.</param>
    /// <param name="validation">Pairs measured after each epoch, or null.</param>
    /// <param name="progress">Receives one report per epoch, or null.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <returns>The report of every epoch, in order.</returns>
    /// <exception cref="TrainingDivergedException">An epoch's mean loss was NaN or infinite.</exception>
    /// <exception cref="ArgumentException">The inputs are not on the model's device.</exception>
    /// <exception cref="OperationCanceledException">Cancellation was requested.</exception>
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

        var module = model.Embedding.Module;
        manual_seed(Options.Seed);
        using var generator = new Generator((ulong)Options.Seed);
        using var pairs = new PairTensors(training.Pairs, device);
        using var validationPairs = validation is null ? null : new PairTensors(validation.Pairs, device);
        using var optimizer = new RmsPropOptimizer(module.parameters(), Options.LearningRate, Options.Rho, Options.Epsilon);
        using var lossSum = zeros(1, dtype: ScalarType.Float64, device: device);
        // Weights of a batch's mean loss in the epoch's mean; made once (see RmsPropOptimizer on Scalars).
        using var fullBatchWeight = ((double)Options.BatchSize).ToScalar();
        using var lastBatchWeight = ((double)(training.Pairs.Count % Options.BatchSize)).ToScalar();

        int count = training.Pairs.Count;
        var reports = new List<EpochReport>(Options.Epochs);
        for (int epoch = 1; epoch <= Options.Epochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            module.train();
            lossSum.zero_();
            // One shuffle per epoch; each step then reads a contiguous slice, with no host/device traffic.
            using (var permutation = randperm(count, generator: generator))
            using (var order = permutation.to(device))
            using (var shuffled = pairs.Permute(order))
            {
                for (int start = 0; start < count; start += Options.BatchSize)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var step = NewDisposeScope();
                    int length = Math.Min(Options.BatchSize, count - start);
                    var distances = model.ComputeStackedDistances(training.Inputs.Gather(shuffled.StackedIndices(start, length)));
                    var loss = Loss.Compute(distances, shuffled.Same.narrow(0, start, length));
                    optimizer.ZeroGrad();
                    loss.backward();
                    optimizer.Step();
                    lossSum.add_(loss.detach(), alpha: length == Options.BatchSize ? fullBatchWeight : lastBatchWeight);
                }
            }

            double meanLoss = lossSum.item<double>() / count;
            double trainSeconds = clock.Elapsed.TotalSeconds;
            if (!double.IsFinite(meanLoss))
            {
                module.eval();
                throw new TrainingDivergedException(epoch, meanLoss);
            }

            // TorchSharp releases some native memory (Scalars and other small handles made inside its own calls)
            // only when their finalizers run, and a training pass allocates too little managed memory to trigger a
            // collection: without this the process grew by about 20 MB per epoch until the first one (measured on
            // MNIST). One collection per epoch keeps memory flat and costs milliseconds.
            GC.Collect();
            GC.WaitForPendingFinalizers();

            clock.Restart();
            double? trainAccuracy = Options.EvaluateTrainingPairs ? PairEvaluator.Accuracy(model, training, pairs, Options.Threshold, Options.EvaluationBatchSize) : null;
            double? validationAccuracy = validation is null ? null : PairEvaluator.Accuracy(model, validation, validationPairs!, Options.Threshold, Options.EvaluationBatchSize);
            var report = new EpochReport(epoch, Options.Epochs, meanLoss, trainAccuracy, validationAccuracy, trainSeconds, clock.Elapsed.TotalSeconds);
            reports.Add(report);
            progress?.Report(report);
        }

        module.eval();
        return reports;
    }
}
