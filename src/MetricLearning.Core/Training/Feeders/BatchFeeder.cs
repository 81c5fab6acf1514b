using System;
using System.Collections.Generic;
using System.Linq;
using MetricLearning.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Training;

/// <summary>
/// The batch path: each epoch draws batches of M samples per class on the host and moves them to the device as one
/// index tensor; each step embeds a batch, lets the miner (after its warm-up) pick pairs or triplets, and applies the
/// batch loss. After the epoch it measures the embeddings' spread and stops a run whose embeddings have collapsed.
/// </summary>
internal sealed class BatchFeeder : ITrainingFeeder<EmbeddingEpochReport>
{
    private readonly IEmbeddingNetwork _network;
    private readonly IBatchLoss _loss;
    private readonly IMiner? _miner;
    private readonly EmbeddingTrainerOptions _options;
    private readonly InputSet? _inputs;
    private readonly ILabelledSource? _source;
    private readonly IReadOnlyList<int> _labels;
    private readonly Device _device;
    private readonly MPerClassSampler _sampler;
    private readonly Tensor _labelTensor;
    private readonly Scalar _weight = 1.0.ToScalar();
    private Tensor? _order;
    private IMiner? _epochMiner;
    private int _batches;
    private int _epoch;
    private IReadOnlyList<int[]>? _epochBatches;
    private BatchPrefetcher? _prefetcher;
    private readonly FusedBatchStep? _fused;

    // fused: the step without autograd that the trainer made (and logged), or null for autograd's; the feeder owns it
    // from here, also if this constructor fails.
    internal BatchFeeder(IEmbeddingNetwork network, IBatchLoss loss, IMiner? miner, EmbeddingTrainerOptions options, InputSet inputs, IReadOnlyList<int> labels, Device device,
        FusedBatchStep? fused = null)
        : this(network, loss, miner, options, labels, device, fused)
    {
        _inputs = inputs;
        _fused = fused;
    }

    /// <summary>The streaming form: each step's batch is read from <paramref name="source"/>, a few steps ahead on worker threads, or when the step needs it (PrefetchBatches = 0).</summary>
    internal BatchFeeder(IEmbeddingNetwork network, IBatchLoss loss, IMiner? miner, EmbeddingTrainerOptions options, ILabelledSource source, Device device)
        : this(network, loss, miner, options, source.Labels, device, null)
    {
        _source = source;
    }

    private BatchFeeder(IEmbeddingNetwork network, IBatchLoss loss, IMiner? miner, EmbeddingTrainerOptions options, IReadOnlyList<int> labels, Device device,
        FusedBatchStep? fused)
    {
        // The only native memory this constructor makes is the label tensor, made first and alone inside the try: if it fails, the step is freed here.
        try
        {
            _labelTensor = tensor(labels.Select(label => (long)label).ToArray(), device: device).DetachFromDisposeScope();
        }
        catch
        {
            fused?.Dispose();
            throw;
        }

        _network = network;
        _loss = loss;
        _miner = miner;
        _options = options;
        _labels = labels;
        _device = device;
        _sampler = new MPerClassSampler(options.SamplesPerClass, options.BatchSize, options.Seed);
    }

    public double EpochLossDivisor => _batches;

    public bool WritesGradients => _fused is not null;

    public int BeginEpoch(int epoch)
    {
        var batches = _sampler.Batches(_labels, epoch);
        _epochMiner = epoch > _options.MinerWarmupEpochs ? _miner : null;
        _epoch = epoch;
        _epochBatches = batches;
        _batches = batches.Count;
        using var flat = tensor(batches.SelectMany(batch => batch.Select(index => (long)index)).ToArray(), device: _device);
        _order = flat.view(batches.Count, _options.BatchSize).DetachFromDisposeScope();
        return _batches;
    }

    public Tensor StepLoss(int step, out Scalar weight, out double weightValue, out int samples)
    {
        var order = _order ?? throw new InvalidOperationException("BeginEpoch was not called.");
        weight = _weight;
        weightValue = 1;
        samples = _options.BatchSize;
        var indices = order[step];
        if (_fused is not null)
            return _fused.Step(_inputs!, indices, _epochMiner is not null);
        var embeddings = _network.Module.call(Batch(indices, step));
        var batchLabels = _labelTensor.index_select(0, indices);
        return _loss.Compute(embeddings, batchLabels, _epochMiner?.Mine(embeddings, batchLabels));
    }

    /// <summary>The step's network inputs: gathered (or read ahead from the source), augmented when the options say so, preprocessed.</summary>
    private Tensor Batch(Tensor indices, int step)
    {
        if (_source is not null)
        {
            // Started at the first step asked for, which is not 0 when a run resumes mid-epoch.
            _prefetcher ??= new BatchPrefetcher(_source, _epochBatches!, _options.PrefetchBatches, firstBatch: step);
            using var read = _prefetcher.Take(step);
            using var onDevice = read.to(_device);
            return Prepare(onDevice, _source.Preprocessing, step);
        }

        if (_options.Augmentation is null)
            return _inputs!.Gather(indices);
        using var rows = _inputs!.Data.index_select(0, indices);
        return Prepare(rows, _inputs.Preprocessing, step);
    }

    /// <summary>Raw rows to network inputs: float32, augmented when the options say so, preprocessed.</summary>
    private Tensor Prepare(Tensor rows, IInputPreprocessing preprocessing, int step)
    {
        if (_options.Augmentation is not { } augmentation)
            return InputSet.Prepare(preprocessing, rows);
        // Seeded by run, epoch and step, so that a resumed run and another device draw the same changes.
        var random = new Random(StepSeed(_options.Seed, _epoch, step));
        using var raw = rows.to_type(ScalarType.Float32);
        using var augmented = augmentation.Apply(raw, random);
        if (!augmented.shape.SequenceEqual(raw.shape) || augmented.dtype != ScalarType.Float32)
            throw new InvalidOperationException(
                $"{augmentation.GetType().Name} returned {augmented.dtype} {TensorChecks.Shape(augmented)} for a float32 batch {TensorChecks.Shape(raw)}; an augmentation keeps shape and dtype.");
        return InputSet.Prepare(preprocessing, augmented);
    }

    /// <summary>A seed from run, epoch and step that is the same in every process (HashCode's is not).</summary>
    internal static int StepSeed(int seed, int epoch, int step)
    {
        unchecked
        {
            ulong mixed = (ulong)(uint)seed;
            mixed = (mixed ^ (ulong)(uint)epoch << 32) * 0x9E3779B97F4A7C15UL;
            mixed = (mixed ^ (uint)step) * 0xBF58476D1CE4E5B9UL;
            mixed ^= mixed >> 31;
            return (int)(mixed & int.MaxValue);
        }
    }

    public EmbeddingEpochReport Report(int epoch, double meanLoss, double trainSeconds) =>
        new(epoch, _options.Epochs, meanLoss, trainSeconds, Spread(), _epochMiner is not null);

    public void EndEpoch()
    {
        _order?.Dispose();
        _order = null;
        _prefetcher?.Dispose();
        _prefetcher = null;
    }

    // Each epoch's batches come from a generator seeded with the seed and the epoch number: nothing to save.
    public byte[]? CaptureState() => null;

    public void RestoreState(byte[] state) =>
        throw new System.IO.InvalidDataException("The batch path keeps no generator state, but the checkpoint holds one.");

    public void CheckProgress(IReadOnlyList<EmbeddingEpochReport> reports)
    {
        if (reports[^1].Spread < _options.CollapseSpread)
            throw new EmbeddingCollapseException(reports, _options.CollapseSpread);
    }

    public void Dispose()
    {
        EndEpoch();
        _fused?.Dispose();
        _labelTensor.Dispose();
        _weight.Dispose();
    }

    /// <summary>
    /// Mean distance of the epoch's first batch's L2-normalised embeddings (in eval mode) from their mean direction:
    /// the mean of <c>‖u_i − ū‖</c>. Zero vectors normalise to zero, so a network that maps everything to 0 also reads as 0.
    /// </summary>
    private double Spread()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var module = _network.Module;
        module.eval();
        Tensor first;
        if (_source is not null)
        {
            using var read = _source.Read(_epochBatches![0]);
            first = InputSet.Prepare(_source.Preprocessing, read.to(_device));
        }
        else
        {
            first = _inputs!.Gather(_order![0]);
        }

        var directions = nn.functional.normalize(module.call(first), p: 2, dim: 1);
        return (directions - directions.mean(new long[] { 0 }, keepdim: true)).norm(1).mean().item<float>();
    }
}
