using System;
using System.Linq;
using System.Threading;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Evaluation;
using MetricLearning.Losses;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using MetricLearning.Training;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Training;

public sealed class EmbeddingTrainerTests
{
    private static MlpEmbeddingNetwork Network(int seed)
    {
        manual_seed(seed);
        return new MlpEmbeddingNetwork(new MlpOptions { InputSize = 6, LayerSizes = new[] { 32, 8 }, Dropout = 0, ActivateLastLayer = false });
    }

    [Fact]
    public void A_batch_loss_on_m_per_class_batches_learns_retrievable_embeddings()
    {
        var (inputs, labels) = Blobs.Create(perClass: 40, classes: 4, dimensions: 6, seed: 11);
        using var _ = inputs;
        using var network = Network(11);
        var options = new EmbeddingTrainerOptions { Epochs = 15, SamplesPerClass = 8, BatchSize = 32, LearningRate = 3e-3, Seed = 11 };

        var reports = new EmbeddingTrainer(new MultiSimilarityLoss(), options).Fit(network, inputs, labels);

        reports.Should().HaveCount(15);
        reports[^1].Loss.Should().BeLessThan(reports[0].Loss);
        using var embeddings = Embedder.EmbedAll(network, inputs);
        var retrieval = RetrievalEvaluator.Evaluate(embeddings, labels, embeddings, labels, new CosineSimilarity(), queriesAreReferences: true);
        retrieval.PrecisionAt1.Should().BeGreaterThan(0.95);
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
