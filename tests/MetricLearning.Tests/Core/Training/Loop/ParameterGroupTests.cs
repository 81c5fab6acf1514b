using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Evaluation;
using MetricLearning.Losses;
using MetricLearning.Models;
using MetricLearning.Tests.TestSupport;
using MetricLearning.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Training;

/// <summary>The one training loop with the optimizers, schedules and parameter groups the options name.</summary>
public sealed class ParameterGroupTests
{
    /// <summary>A two-layer network that trains its head only, or its trunk slower, through <see cref="ITrainableParameters"/>.</summary>
    private sealed class TrunkAndHead : IEmbeddingNetwork, ITrainableParameters, IDisposable
    {
        private readonly Linear _trunk;
        private readonly Linear _head;
        private readonly double? _trunkScale;

        public TrunkAndHead(int seed, double? trunkScale)
        {
            manual_seed(seed);
            _trunk = nn.Linear(6, 16);
            _head = nn.Linear(16, 8);
            Module = nn.Sequential(_trunk, nn.ReLU(), _head);
            _trunkScale = trunkScale;
        }

        public long EmbeddingSize => 8;

        public nn.Module<Tensor, Tensor> Module { get; }

        public Parameter[] TrunkParameters => _trunk.parameters().ToArray();

        public Parameter[] HeadParameters => _head.parameters().ToArray();

        public IReadOnlyList<ParameterGroup> ParameterGroups => _trunkScale is { } scale
            ? new[] { new ParameterGroup("trunk", _trunk.parameters(), scale), new ParameterGroup("head", _head.parameters()) }
            : new[] { new ParameterGroup("head", _head.parameters()) };

        public void Dispose() => Module.Dispose();
    }

    /// <summary>A network that lists one parameter in two groups.</summary>
    private sealed class Overlapping : IEmbeddingNetwork, ITrainableParameters, IDisposable
    {
        public Overlapping() => Module = nn.Sequential(nn.Linear(6, 4));

        public long EmbeddingSize => 4;

        public nn.Module<Tensor, Tensor> Module { get; }

        public IReadOnlyList<ParameterGroup> ParameterGroups => new[]
        {
            new ParameterGroup("all", Module.parameters()),
            new ParameterGroup("bias again", Module.parameters().Skip(1)),
        };

        public void Dispose() => Module.Dispose();
    }

    private static float[][] Snapshot(IEnumerable<Parameter> parameters) => parameters.Select(Tensors.Values).ToArray();

    [Fact]
    public void Parameters_left_out_of_every_group_stay_frozen_on_the_pair_path()
    {
        var (inputs, labels) = Blobs.Create(perClass: 20, classes: 3, dimensions: 6, seed: 31);
        using var _ = inputs;
        using var network = new TrunkAndHead(seed: 31, trunkScale: null);
        var trunkBefore = Snapshot(network.TrunkParameters);
        var headBefore = Snapshot(network.HeadParameters);

        new SiameseTrainer(new ContrastiveLoss(), options: new TrainerOptions { Epochs = 2, BatchSize = 16, Seed = 31 })
            .Fit(new SiameseNetwork(network), new LabelledData(inputs, labels));

        Snapshot(network.TrunkParameters).Should().BeEquivalentTo(trunkBefore, o => o.WithStrictOrdering(), "the trunk is in no group");
        Snapshot(network.HeadParameters)[0].Should().NotEqual(headBefore[0], "the head is trained");
    }

    [Fact]
    public void Parameters_left_out_of_every_group_stay_frozen_on_the_batch_path()
    {
        var (inputs, labels) = Blobs.Create(perClass: 16, classes: 4, dimensions: 6, seed: 32);
        using var _ = inputs;
        using var network = new TrunkAndHead(seed: 32, trunkScale: null);
        var trunkBefore = Snapshot(network.TrunkParameters);
        var headBefore = Snapshot(network.HeadParameters);

        new EmbeddingTrainer(new MultiSimilarityLoss(), new EmbeddingTrainerOptions { Epochs = 2, SamplesPerClass = 4, BatchSize = 16, Seed = 32, CollapseSpread = 0 })
            .Fit(network, inputs, labels);

        Snapshot(network.TrunkParameters).Should().BeEquivalentTo(trunkBefore, o => o.WithStrictOrdering(), "the trunk is in no group");
        Snapshot(network.HeadParameters)[0].Should().NotEqual(headBefore[0], "the head is trained");
    }

    [Fact]
    public void A_slower_group_moves_less_than_the_same_weights_at_full_rate()
    {
        // SGD without momentum: the first step moves each weight by exactly rate x gradient, so a trunk at a tenth of
        // the rate moves a tenth as far as the same trunk at the full rate, from the same start and the same batch.
        var (inputs, labels) = Blobs.Create(perClass: 8, classes: 2, dimensions: 6, seed: 33);
        using var _ = inputs;
        var pairs = new PairDataset(inputs, new AlternatingPairSampler(33).Sample(labels));
        var options = new TrainerOptions { Epochs = 1, BatchSize = 1000, Seed = 33, Optimizer = OptimizerSettings.Sgd(0.1, momentum: 0), EvaluateTrainingPairs = false };

        float[] TrunkMove(double scale)
        {
            using var network = new TrunkAndHead(seed: 33, trunkScale: scale);
            var before = Tensors.Values(network.TrunkParameters[0]);
            new SiameseTrainer(new ContrastiveLoss(), options: options).Fit(new SiameseNetwork(network), pairs);
            return Tensors.Values(network.TrunkParameters[0]).Zip(before, (after, start) => after - start).ToArray();
        }

        var full = TrunkMove(1);
        var tenth = TrunkMove(0.1);

        full.Select(Math.Abs).Max().Should().BeGreaterThan(1e-4f, "the trunk moves at the full rate");
        tenth.Should().Equal(full.Select(move => move / 10), (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    [Fact]
    public void A_parameter_in_two_groups_is_refused_naming_both()
    {
        var (inputs, labels) = Blobs.Create(perClass: 4, classes: 2, dimensions: 6, seed: 34);
        using var _ = inputs;
        using var network = new Overlapping();

        var act = () => new SiameseTrainer(new ContrastiveLoss(), options: new TrainerOptions { Epochs = 1 }).Fit(new SiameseNetwork(network), new LabelledData(inputs, labels));

        act.Should().Throw<ArgumentException>().WithMessage("*'all'*'bias again'*one group only*");
    }

    [Theory]
    [InlineData(OptimizerKind.RmsProp, 3e-3, ScheduleKind.Constant)]
    [InlineData(OptimizerKind.Adam, 3e-3, ScheduleKind.Cosine)]
    [InlineData(OptimizerKind.AdamW, 3e-3, ScheduleKind.Step)]
    [InlineData(OptimizerKind.Sgd, 3e-2, ScheduleKind.Cosine)]
    public void Every_optimizer_and_schedule_trains_the_siamese_model_past_the_untrained_one(OptimizerKind kind, double rate, ScheduleKind schedule)
    {
        var (inputs, labels) = Blobs.Create(perClass: 40, classes: 4, dimensions: 6, seed: 35);
        using var _ = inputs;
        var data = new PairDataset(inputs, new AlternatingPairSampler(35).Sample(labels));
        manual_seed(35);
        using var network = new MetricLearning.Networks.MlpEmbeddingNetwork(new MetricLearning.Networks.MlpOptions { InputSize = 6, LayerSizes = new[] { 32, 16 }, Dropout = 0.1 });
        var model = new SiameseNetwork(network, new EuclideanDistance());
        double untrained = PairEvaluator.Accuracy(model, data);
        var options = new TrainerOptions
        {
            Epochs = 12,
            BatchSize = 32,
            Seed = 35,
            Optimizer = new OptimizerSettings { Kind = kind, LearningRate = rate },
            Schedule = new LearningRateSchedule { Kind = schedule, StepEpochs = 6, StepFactor = 0.5 },
        };

        var reports = new SiameseTrainer(new ContrastiveLoss(), options: options).Fit(model, data, data);

        reports[^1].Loss.Should().BeLessThan(reports[0].Loss);
        reports[^1].ValidationAccuracy.Should().BeGreaterThan(untrained).And.BeGreaterThan(0.9);
    }
}
