using System;
using System.Collections.Generic;
using System.Diagnostics;
using MetricLearning.Data;
using MetricLearning.Evaluation;
using MetricLearning.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Training;

/// <summary>
/// The pair path: each epoch shuffles the training pairs (a permutation from a generator seeded with the trainer's
/// seed), each step embeds both inputs of a slice of pairs in one pass and applies the pair loss; after the epoch,
/// pair accuracy is measured with dropout off.
/// </summary>
internal sealed class PairFeeder : ITrainingFeeder<EpochReport>
{
    private readonly SiameseNetwork _model;
    private readonly ILoss _loss;
    private readonly TrainerOptions _options;
    private readonly PairDataset _training;
    private readonly PairDataset? _validation;
    private readonly Generator _generator;
    private readonly PairTensors _pairs;
    private readonly PairTensors? _validationPairs;
    // Weights of a batch's mean loss in the epoch's total; made once (TorchSharp frees a Scalar only when disposed).
    private readonly Scalar _fullBatchWeight;
    private readonly Scalar _lastBatchWeight;
    private readonly FusedPairStep? _fused;
    private PairTensors? _shuffled;

    // fused: the step without autograd that the trainer made (and logged), or null for autograd's; the feeder owns it.
    internal PairFeeder(SiameseNetwork model, ILoss loss, TrainerOptions options, PairDataset training, PairDataset? validation, FusedPairStep? fused)
    {
        _fused = fused;
        _model = model;
        _loss = loss;
        _options = options;
        _training = training;
        _validation = validation;
        var device = model.Device;
        _generator = new Generator((ulong)options.Seed);
        _pairs = new PairTensors(training.Pairs, device);
        _validationPairs = validation is null ? null : new PairTensors(validation.Pairs, device);
        _fullBatchWeight = ((double)options.BatchSize).ToScalar();
        _lastBatchWeight = ((double)(training.Pairs.Count % options.BatchSize)).ToScalar();
    }

    /// <summary>The most pairs a step has: the batch size, or all the pairs if there are fewer.</summary>
    internal static int MaxPairs(TrainerOptions options, PairDataset training) => Math.Min(options.BatchSize, training.Pairs.Count);

    public double EpochLossDivisor => _training.Pairs.Count;

    public bool WritesGradients => _fused is not null;

    public int BeginEpoch(int epoch)
    {
        // One shuffle per epoch; each step then reads a contiguous slice, with no host/device traffic.
        using var permutation = randperm(_training.Pairs.Count, generator: _generator);
        using var order = permutation.to(_model.Device);
        _shuffled = _pairs.Permute(order);
        return (_training.Pairs.Count + _options.BatchSize - 1) / _options.BatchSize;
    }

    public Tensor StepLoss(int step, out Scalar weight, out double weightValue, out int samples)
    {
        var shuffled = _shuffled ?? throw new InvalidOperationException("BeginEpoch was not called.");
        int start = step * _options.BatchSize;
        int length = Math.Min(_options.BatchSize, _training.Pairs.Count - start);
        weight = length == _options.BatchSize ? _fullBatchWeight : _lastBatchWeight;
        weightValue = length;
        samples = length;
        var indices = shuffled.StackedIndices(start, length);
        var same = shuffled.Same.narrow(0, start, length);
        if (_fused is not null)
            return _fused.Step(_training.Inputs, indices, same);
        var distances = _model.ComputeStackedDistances(_training.Inputs.Gather(indices));
        return _loss.Compute(distances, same);
    }

    public EpochReport Report(int epoch, double meanLoss, double trainSeconds)
    {
        var clock = Stopwatch.StartNew();
        double? trainAccuracy = _options.EvaluateTrainingPairs
            ? PairEvaluator.Accuracy(_model, _training, _pairs, _options.Threshold, _options.EvaluationBatchSize)
            : null;
        double? validationAccuracy = _validation is null
            ? null
            : PairEvaluator.Accuracy(_model, _validation, _validationPairs!, _options.Threshold, _options.EvaluationBatchSize);
        return new EpochReport(epoch, _options.Epochs, meanLoss, trainAccuracy, validationAccuracy, trainSeconds, clock.Elapsed.TotalSeconds);
    }

    public void EndEpoch()
    {
        _shuffled?.Dispose();
        _shuffled = null;
    }

    public byte[]? CaptureState()
    {
        using var state = _generator.get_state();
        return TensorBlob.Encode(state);
    }

    public void RestoreState(byte[] state)
    {
        using var current = _generator.get_state();
        TensorBlob.Restore(state, current, "the pair shuffle's generator");
        _generator.set_state(current);
    }

    public void CheckProgress(IReadOnlyList<EpochReport> reports)
    {
        // Pair losses work on raw distances, which can separate classes along one direction: no collapse check.
    }

    public void Dispose()
    {
        EndEpoch();
        _fused?.Dispose();
        _generator.Dispose();
        _pairs.Dispose();
        _validationPairs?.Dispose();
        _fullBatchWeight.Dispose();
        _lastBatchWeight.Dispose();
    }
}
