using System;
using System.Linq;
using System.Threading;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Evaluation;
using MetricLearning.Losses;
using MetricLearning.Mining;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using MetricLearning.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Training;

public sealed class EmbeddingTrainerTests
{
    private static MlpEmbeddingNetwork Network(int seed, int inputSize = 6)
    {
        manual_seed(seed);
        return new MlpEmbeddingNetwork(new MlpOptions { InputSize = inputSize, LayerSizes = new[] { 32, 8 }, Dropout = 0, ActivateLastLayer = false });
    }

    [Fact]
    public void A_batch_loss_on_m_per_class_batches_learns_retrievable_embeddings()
    {
        var (inputs, labels) = Blobs.CreateHard(perClass: 40, classes: 4, dimensions: 16, seed: 11);
        using var _ = inputs;
        using var network = Network(11, inputSize: 16);
        double untrained = Retrieval.PrecisionAt1(network, inputs, labels, new CosineSimilarity());
        var options = new EmbeddingTrainerOptions { Epochs = 15, SamplesPerClass = 8, BatchSize = 32, Optimizer = { LearningRate = 3e-3 }, Seed = 11 };

        var reports = new EmbeddingTrainer(new MultiSimilarityLoss(), options).Fit(network, inputs, labels);

        reports.Should().HaveCount(15);
        reports[^1].Loss.Should().BeLessThan(reports[0].Loss);
        Retrieval.PrecisionAt1(network, inputs, labels, new CosineSimilarity()).Should().BeGreaterThan(untrained + 0.25, "training beats the same network untrained by a margin");
    }

    /// <summary>A linear map whose weights start at 0 and bias at (1, 0): every input lands on the same point.</summary>
    private sealed class ConstantEmbedding : IEmbeddingNetwork
    {
        private readonly TorchSharp.Modules.Linear _linear = nn.Linear(6, 2);

        public ConstantEmbedding()
        {
            using var noGrad = no_grad();
            using var bias = tensor(new[] { 1f, 0f });
            _linear.weight!.zero_();
            _linear.bias!.copy_(bias);
        }

        public long EmbeddingSize => 2;

        public nn.Module<Tensor, Tensor> Module => _linear;
    }

    [Fact]
    public void Embeddings_that_collapse_to_one_point_stop_training_with_advice()
    {
        // With a learning rate of 1e-12 the weights cannot move away from 0, so every embedding stays (1, 0).
        var (inputs, labels) = Blobs.Create(perClass: 16, classes: 2, dimensions: 6, seed: 13);
        using var _ = inputs;
        var network = new ConstantEmbedding();
        var options = new EmbeddingTrainerOptions { Epochs = 3, SamplesPerClass = 8, BatchSize = 16, Optimizer = { LearningRate = 1e-12 } };

        var act = () => new EmbeddingTrainer(new TripletMarginLoss(), options, new BatchHardMiner()).Fit(network, inputs, labels);

        var thrown = act.Should().Throw<EmbeddingCollapseException>()
            .WithMessage("*collapsed at epoch 1*MinerWarmupEpochs*SemiHardMiner*").Which;
        thrown.Reports.Should().ContainSingle().Which.Spread.Should().BeLessThan(1e-6);
    }

    [Fact]
    public void The_collapse_check_can_be_turned_off()
    {
        var (inputs, labels) = Blobs.Create(perClass: 16, classes: 2, dimensions: 6, seed: 13);
        using var _ = inputs;
        var network = new ConstantEmbedding();
        var options = new EmbeddingTrainerOptions { Epochs = 2, SamplesPerClass = 8, BatchSize = 16, Optimizer = { LearningRate = 1e-12 }, CollapseSpread = 0 };

        var reports = new EmbeddingTrainer(new TripletMarginLoss(), options).Fit(network, inputs, labels);

        reports.Should().HaveCount(2).And.OnlyContain(r => r.Spread < 1e-6 && !r.Mined);
    }

    [Fact]
    public void The_miner_starts_after_the_warm_up_and_mined_training_learns()
    {
        var (inputs, labels) = Blobs.CreateHard(perClass: 40, classes: 4, dimensions: 16, seed: 14);
        using var _ = inputs;
        using var network = Network(14, inputSize: 16);
        double untrained = Retrieval.PrecisionAt1(network, inputs, labels, new LpDistance(2, normalize: true));
        var options = new EmbeddingTrainerOptions { Epochs = 12, SamplesPerClass = 8, BatchSize = 32, Optimizer = { LearningRate = 3e-3 }, Seed = 14, MinerWarmupEpochs = 2 };

        var reports = new EmbeddingTrainer(new TripletMarginLoss(), options, new SemiHardMiner()).Fit(network, inputs, labels);

        reports.Select(r => r.Mined).Should().Equal(new[] { false, false }.Concat(Enumerable.Repeat(true, 10)));
        reports.Should().OnlyContain(r => r.Spread > 0.1);
        Retrieval.PrecisionAt1(network, inputs, labels, new LpDistance(2, normalize: true)).Should().BeGreaterThan(untrained + 0.25, "training beats the same network untrained by a margin");
    }

    [Fact]
    public void Invalid_warm_up_and_collapse_settings_are_refused_and_named()
    {
        var warmup = () => new EmbeddingTrainer(new ContrastiveBatchLoss(), new EmbeddingTrainerOptions { MinerWarmupEpochs = -1 });
        var spread = () => new EmbeddingTrainer(new ContrastiveBatchLoss(), new EmbeddingTrainerOptions { CollapseSpread = 1 });

        warmup.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*MinerWarmupEpochs*");
        spread.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*CollapseSpread*");
    }

    [Fact]
    public void Inputs_with_nan_stop_training_with_a_clear_error()
    {
        var (inputs, labels) = Blobs.Create(perClass: 16, classes: 2, dimensions: 6, seed: 15);
        using var poisoned = new InputSet(SiameseTrainerTests.NaNInFirstRow(inputs));
        inputs.Dispose();
        using var network = Network(15);
        var options = new EmbeddingTrainerOptions { Epochs = 3, SamplesPerClass = 8, BatchSize = 16 };

        var act = () => new EmbeddingTrainer(new MultiSimilarityLoss(), options).Fit(network, poisoned, labels);

        act.Should().Throw<TrainingDivergedException>().WithMessage("*diverged at epoch 1*");
    }

    [Fact]
    public void Cancellation_stops_training()
    {
        var (inputs, labels) = Blobs.Create(perClass: 20, classes: 2, dimensions: 6, seed: 12);
        using var _ = inputs;
        using var network = Network(12);
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        var act = () => new EmbeddingTrainer(new ContrastiveBatchLoss(), new EmbeddingTrainerOptions { SamplesPerClass = 4, BatchSize = 8 })
            .Fit(network, inputs, labels, cancellationToken: cancellation.Token);

        act.Should().Throw<OperationCanceledException>();
    }

    [Fact]
    public void Labels_that_do_not_match_the_inputs_are_refused()
    {
        var (inputs, labels) = Blobs.Create(perClass: 10, classes: 2, dimensions: 6, seed: 13);
        using var _ = inputs;
        using var network = Network(13);

        var act = () => new EmbeddingTrainer(new ContrastiveBatchLoss(), new EmbeddingTrainerOptions { SamplesPerClass = 4, BatchSize = 8 })
            .Fit(network, inputs, labels.Take(5).ToArray());

        act.Should().Throw<ArgumentException>().WithMessage("*5 labels for 20 inputs*");
    }

    [Theory]
    [InlineData(0, 32, 320, "Epochs")]
    [InlineData(20, 1, 320, "SamplesPerClass")]
    [InlineData(20, 32, 100, "BatchSize")]
    public void Invalid_options_are_refused_and_named(int epochs, int m, int batchSize, string option)
    {
        var act = () => new EmbeddingTrainer(new ContrastiveBatchLoss(), new EmbeddingTrainerOptions { Epochs = epochs, SamplesPerClass = m, BatchSize = batchSize });

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName(option);
    }

    [Fact]
    public void Embedder_returns_eval_mode_embeddings_in_input_order_and_restores_the_mode()
    {
        var (inputs, _) = Blobs.Create(perClass: 5, classes: 2, dimensions: 6, seed: 14);
        using var __ = inputs;
        using var network = Network(14);
        network.train();

        using var all = Embedder.EmbedAll(network, inputs, batchSize: 3);

        network.training.Should().BeTrue();
        network.eval();
        using var direct = network.call(inputs.Data);
        Tensors.Values(all).Should().Equal(Tensors.Values(direct), (a, b) => Math.Abs(a - b) < 1e-6f);
    }
}
