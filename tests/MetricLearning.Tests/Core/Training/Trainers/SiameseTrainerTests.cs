using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Evaluation;
using MetricLearning.Losses;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using MetricLearning.Training;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Training;

public sealed class SiameseTrainerTests
{
    private static MlpEmbeddingNetwork SmallNetwork(int seed)
    {
        manual_seed(seed);
        return new MlpEmbeddingNetwork(new MlpOptions { InputSize = 6, LayerSizes = new[] { 32, 16 }, Dropout = 0.1 });
    }

    private static TrainerOptions Options(int epochs = 4) =>
        new() { Epochs = epochs, BatchSize = 32, Optimizer = { LearningRate = 3e-3 }, Seed = 5, EvaluationBatchSize = 100 };

    [Fact]
    public void Training_on_separable_blobs_reaches_high_pair_accuracy()
    {
        var (inputs, labels) = Blobs.Create(perClass: 60, classes: 4, dimensions: 6, seed: 1);
        using var _ = inputs;
        var data = new PairDataset(inputs, new AlternatingPairSampler(1).Sample(labels));
        using var network = SmallNetwork(1);
        var model = new SiameseNetwork(network, new EuclideanDistance());
        double before = PairEvaluator.Accuracy(model, data);

        var epochs = new SiameseTrainer(new ContrastiveLoss(), Options(epochs: 15)).Fit(model, data, data);

        epochs.Should().HaveCount(15);
        epochs[^1].Loss.Should().BeLessThan(epochs[0].Loss);
        epochs[^1].ValidationAccuracy.Should().BeGreaterThan(0.9).And.BeGreaterThan(before);
        PairEvaluator.Accuracy(model, data).Should().Be(epochs[^1].ValidationAccuracy!.Value, "the report measures the same thing");
    }

    [Fact]
    public void The_same_seed_gives_bit_identical_runs()
    {
        var (inputs, labels) = Blobs.Create(perClass: 30, classes: 3, dimensions: 6, seed: 2);
        using var _ = inputs;
        var data = new PairDataset(inputs, new AlternatingPairSampler(2).Sample(labels));

        double[] Run()
        {
            using var network = SmallNetwork(4);
            var model = new SiameseNetwork(network, new EuclideanDistance());
            return new SiameseTrainer(new ContrastiveLoss(), Options()).Fit(model, data).Select(e => e.Loss).ToArray();
        }

        Run().Should().Equal(Run());
    }

    [Fact]
    public void Progress_receives_one_report_per_epoch_in_order()
    {
        var (inputs, labels) = Blobs.Create(perClass: 10, classes: 2, dimensions: 6, seed: 3);
        using var _ = inputs;
        var data = new PairDataset(inputs, new AlternatingPairSampler(3).Sample(labels));
        using var network = SmallNetwork(3);
        var reports = new List<EpochReport>();

        new SiameseTrainer(new ContrastiveLoss(), Options(epochs: 3))
            .Fit(new SiameseNetwork(network, new EuclideanDistance()), data, null, new SynchronousProgress<EpochReport>(reports.Add));

        reports.Select(r => r.Epoch).Should().Equal(1, 2, 3);
        reports.Should().OnlyContain(r => r.ValidationAccuracy == null && r.TrainAccuracy != null && r.TrainSeconds >= 0);
    }

    [Fact]
    public void Cancellation_stops_training_between_steps()
    {
        var (inputs, labels) = Blobs.Create(perClass: 10, classes: 2, dimensions: 6, seed: 3);
        using var _ = inputs;
        var data = new PairDataset(inputs, new AlternatingPairSampler(3).Sample(labels));
        using var network = SmallNetwork(3);
        using var cancellation = new CancellationTokenSource();
        var trainer = new SiameseTrainer(new ContrastiveLoss(), Options(epochs: 50));

        var act = () => trainer.Fit(new SiameseNetwork(network, new EuclideanDistance()), data, null,
            new SynchronousProgress<EpochReport>(report => { if (report.Epoch == 2) cancellation.Cancel(); }), cancellation.Token);

        act.Should().Throw<OperationCanceledException>();
    }

    [Theory]
    [InlineData(0, 20, "BatchSize")]
    [InlineData(128, 0, "Epochs")]
    public void Invalid_options_are_refused_and_named(int batchSize, int epochs, string option)
    {
        var act = () => new SiameseTrainer(new ContrastiveLoss(), new TrainerOptions { BatchSize = batchSize, Epochs = epochs });

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName(option).WithMessage($"*{option}*");
    }

    [Fact]
    public void Inputs_with_nan_stop_training_at_the_first_epoch_with_a_clear_error()
    {
        var (inputs, labels) = Blobs.Create(perClass: 10, classes: 2, dimensions: 6, seed: 4);
        using var poisoned = new InputSet(NaNInFirstRow(inputs));
        inputs.Dispose();
        using var network = SmallNetwork(4);
        var data = new PairDataset(poisoned, new AlternatingPairSampler(4).Sample(labels));

        var act = () => new SiameseTrainer(new ContrastiveLoss(), Options(epochs: 3)).Fit(new SiameseNetwork(network, new EuclideanDistance()), data);

        act.Should().Throw<TrainingDivergedException>().WithMessage("*diverged at epoch 1*NaN*learning rate*")
            .Which.Epoch.Should().Be(1);
    }

    /// <summary>The blobs' values with the first row set to NaN.</summary>
    internal static Tensor NaNInFirstRow(InputSet inputs)
    {
        using var all = inputs.Gather(arange(inputs.Count, dtype: ScalarType.Int64));
        var copy = all.clone();
        copy[0].fill_(float.NaN);
        return copy;
    }

    [Fact]
    public void Pairs_that_point_past_the_inputs_are_refused()
    {
        using var inputs = new InputSet(zeros(3, 6));
        var pairs = new PairSet(new[] { 0, 1 }, new[] { 2, 3 }, new[] { true, false });

        var act = () => new PairDataset(inputs, pairs);

        act.Should().Throw<ArgumentException>().WithMessage("*input 3*only 3 inputs*");
    }
}
