using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using MetricLearning.Data;
using MetricLearning.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Training;

/// <summary>
/// Trains an embedding network with a batch loss (<see cref="IBatchLoss"/>), optionally on the pairs or triplets a
/// miner (<see cref="IMiner"/>) picks, on batches of M samples per class (<see cref="MPerClassSampler"/>), with Adam
/// and, by default, a cosine-annealed learning rate.
/// </summary>
/// <remarks>
/// Each epoch's batches are drawn on the host and moved to the device once, as one index tensor; the step loop then
/// makes no host/device copies, and the loss total is read once per epoch. Some steps do synchronise with the device:
/// miners return a data-dependent number of indices (<c>nonzero</c>), and losses with class vectors read the labels'
/// range to check it. After each epoch the spread of one batch's
/// embeddings is measured, and training stops with an <see cref="EmbeddingCollapseException"/> if they have collapsed.
/// A loss that has weights of its own (<see cref="ITrainableLoss"/>) has them trained too. Cancellation is honoured
/// between steps. Not thread-safe; one <c>Fit</c> at a time, on one thread.
/// </remarks>
public sealed class EmbeddingTrainer
{
    /// <summary>Creates a trainer.</summary>
    /// <param name="loss">The batch loss to minimise.</param>
    /// <param name="options">Settings; null for the defaults. Copied and validated.</param>
    /// <param name="miner">Picks the pairs or triplets of each batch the loss learns from; null for all of them.</param>
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

    /// <summary>Trains <paramref name="network"/> in place on labelled data; otherwise as the overload that takes inputs and labels.</summary>
    /// <param name="network">The network; its parameters must be on the inputs' device.</param>
    /// <param name="training">The training inputs and their classes.</param>
    /// <param name="progress">Receives one report per epoch, or null.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <returns>The report of every epoch, in order.</returns>
    /// <exception cref="EmbeddingCollapseException">The embeddings collapsed to one direction; the message says what to try.</exception>
    /// <exception cref="TrainingDivergedException">An epoch's mean loss was NaN or infinite.</exception>
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
    /// Trains <paramref name="network"/> in place, from its current weights. Each call starts a fresh optimizer (Adam
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
        var module = network.Module;
        var device = module.parameters().FirstOrDefault()?.device ?? CPU;
        inputs.CheckDevice(device);

        var sampler = new MPerClassSampler(Options.SamplesPerClass, Options.BatchSize, Options.Seed);
        manual_seed(Options.Seed);
        using var labelTensor = tensor(labels.Select(label => (long)label).ToArray(), device: device);
        // A loss with weights of its own (class proxies) trains them too, at its own pace.
        var groups = new List<TorchSharp.Modules.Adam.ParamGroup> { new(module.parameters(), lr: Options.LearningRate) };
        if (Loss is ITrainableLoss trainable)
            groups.Add(new(trainable.Parameters, lr: Options.LearningRate * trainable.LearningRateScale));
        using var optimizer = optim.Adam(groups, lr: Options.LearningRate);
        var schedule = Options.CosineAnnealing ? optim.lr_scheduler.CosineAnnealingLR(optimizer, Options.Epochs) : null;
        using var lossSum = zeros(1, dtype: ScalarType.Float64, device: device);
        var reports = new List<EmbeddingEpochReport>(Options.Epochs);
        for (int epoch = 1; epoch <= Options.Epochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batches = sampler.Batches(labels, epoch);
            var miner = epoch > Options.MinerWarmupEpochs ? Miner : null;
            var clock = Stopwatch.StartNew();
            module.train();
            lossSum.zero_();
            using (var order = tensor(batches.SelectMany(batch => batch.Select(index => (long)index)).ToArray(), device: device)
                       .view(batches.Count, Options.BatchSize))
            {
                for (int b = 0; b < batches.Count; b++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var step = NewDisposeScope();
                    var indices = order[b];
                    var embeddings = module.call(inputs.Gather(indices));
                    var batchLabels = labelTensor.index_select(0, indices);
                    var loss = Loss.Compute(embeddings, batchLabels, miner?.Mine(embeddings, batchLabels));
                    optimizer.zero_grad();
                    loss.backward();
                    optimizer.step();
                    lossSum.add_(loss.detach());
                }

                schedule?.step();
                double meanLoss = lossSum.item<double>() / batches.Count;
                double seconds = clock.Elapsed.TotalSeconds;
                if (!double.IsFinite(meanLoss))
                {
                    module.eval();
                    throw new TrainingDivergedException(epoch, meanLoss);
                }

                reports.Add(new EmbeddingEpochReport(epoch, Options.Epochs, meanLoss, seconds, Spread(module, inputs, order), miner is not null));
            }

            // See SiameseTrainer: finalizer-held native memory would otherwise grow between collections.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            progress?.Report(reports[^1]);
            if (reports[^1].Spread < Options.CollapseSpread)
            {
                module.eval();
                throw new EmbeddingCollapseException(reports, Options.CollapseSpread);
            }
        }

        module.eval();
        return reports;
    }

    /// <summary>
    /// Mean distance of the epoch's first batch's L2-normalised embeddings (in eval mode) from their mean direction: the mean of
    /// <c>‖u_i − ū‖</c>. Zero vectors normalise to zero, so a network that maps everything to 0 also reads as 0.
    /// </summary>
    private static double Spread(nn.Module<Tensor, Tensor> module, InputSet inputs, Tensor order)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        module.eval();
        var directions = nn.functional.normalize(module.call(inputs.Gather(order[0])), p: 2, dim: 1);
        return (directions - directions.mean(new long[] { 0 }, keepdim: true)).norm(1).mean().item<float>();
    }
}
