using System;
using System.Linq;
using FluentAssertions;
using MetricLearning;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Mining;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using MetricLearning.Training;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Training;

public sealed class FusedBatchStepTests
{
    private const int Features = 11;
    private const int Count = 60;

    /// <summary>Four classes, each input's class at random.</summary>
    private static int[] Labels(int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, Count).Select(_ => random.Next(4)).ToArray();
    }

    private static MlpEmbeddingNetwork Network(Activation activation, double dropout)
    {
        manual_seed(8);
        return new MlpEmbeddingNetwork(new MlpOptions { InputSize = Features, LayerSizes = new[] { 20, 12, 6 }, Activation = activation, Dropout = dropout });
    }

    private static InputSet Inputs()
    {
        manual_seed(9);
        return new InputSet(rand(Count, Features) * 2 - 1);
    }

    private static (float Loss, float[][] Gradients) Autograd(MlpEmbeddingNetwork network, MultiSimilarityLoss loss, IMiner? miner, InputSet inputs, int[] labels, long[] rows, int seed)
    {
        foreach (var parameter in network.parameters())
            parameter.grad = null;
        manual_seed(seed);
        using var indices = tensor(rows);
        var embeddings = network.call(inputs.Gather(indices));
        using var batchLabels = tensor(rows.Select(r => (long)labels[r]).ToArray());
        using var mined = miner?.Mine(embeddings, batchLabels);
        var value = loss.Compute(embeddings, batchLabels, mined);
        value.backward();
        return (value.item<float>(), network.parameters().Select(p => Tensors.Values(p.grad!)).ToArray());
    }

    private static (float Loss, float[][] Gradients) Fused(MlpEmbeddingNetwork network, MultiSimilarityLoss loss, IMiner? miner, InputSet inputs, int[] labels, long[] rows, int seed, int batchSize)
    {
        foreach (var parameter in network.parameters())
            parameter.grad = null;
        using var step = FusedBatchStep.TryCreate(network, loss, miner, inputs, labels, batchSize, out string? reason);
        step.Should().NotBeNull(reason);
        manual_seed(seed);
        using var indices = tensor(rows);
        using var value = step!.Step(inputs, indices, mine: miner is not null);
        return (value.item<float>(), network.parameters().Select(p => Tensors.Values(p.grad!)).ToArray());
    }

    private static long[] Batch(int size, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, Count).OrderBy(_ => random.Next()).Take(size).Select(i => (long)i).ToArray();
    }

    [Theory]
    [InlineData(true, Activation.Relu, 0.0, 24)]
    [InlineData(true, Activation.Relu, 0.2, 24)]
    [InlineData(false, Activation.Relu, 0.2, 24)]
    [InlineData(true, Activation.Tanh, 0.1, 24)]
    [InlineData(true, Activation.Relu, 0.1, 21)]   // rows not a multiple of the vector width
    [InlineData(false, Activation.Relu, 0.0, 5)]   // fewer rows than the vector width
    public void Loss_and_gradients_match_autograd(bool withMiner, Activation activation, double dropout, int batch)
    {
        using var network = Network(activation, dropout);
        network.train();
        using var inputs = Inputs();
        var labels = Labels(1);
        var rows = Batch(batch, 2);
        // A small beta and lambda keep both terms' exponentials in play at these random similarities.
        var loss = new MultiSimilarityLoss(alpha: 2, beta: 10, lambda: 0.2);
        var miner = withMiner ? new MultiSimilarityMiner(epsilon: 0.1) : null;
        if (miner is not null)
        {
            // In this very step (the same seed, so the same dropout masks) the miner keeps some pairs and drops
            // others, so its rule is what is compared.
            manual_seed(3);
            using var indices = tensor(rows);
            using var embeddings = network.call(inputs.Gather(indices));
            using var batchLabels = tensor(rows.Select(r => (long)labels[r]).ToArray());
            using var pairs = (MinedPairs)miner.Mine(embeddings, batchLabels);
            (pairs.PositiveCount + pairs.NegativeCount).Should().BeGreaterThan(0).And.BeLessThan((long)batch * (batch - 1));
        }

        // A batch smaller than the step was made for (as an epoch's last batch could be).
        var fused = Fused(network, loss, miner, inputs, labels, rows, seed: 3, batchSize: 30);
        var reference = Autograd(network, loss, miner, inputs, labels, rows, seed: 3);

        fused.Loss.Should().BeApproximately(reference.Loss, 1e-5f * Math.Max(1, Math.Abs(reference.Loss)));
        for (int p = 0; p < reference.Gradients.Length; p++)
        {
            reference.Gradients[p].Should().Contain(g => g != 0, "the check must not pass on zero gradients alone");
            fused.Gradients[p].Should().Equal(reference.Gradients[p], (a, b) => Math.Abs(a - b) <= 1e-5f * Math.Max(1, Math.Abs(b)), $"parameter {p}");
        }
    }

    [Fact]
    public void The_miner_changes_the_pairs_that_count()
    {
        using var network = Network(Activation.Relu, 0.0);
        network.train();
        using var inputs = Inputs();
        var labels = Labels(2);
        var rows = Batch(24, 3);
        var loss = new MultiSimilarityLoss(alpha: 2, beta: 10, lambda: 0.2);
        var miner = new MultiSimilarityMiner(epsilon: 0.05);

        var mined = Fused(network, loss, miner, inputs, labels, rows, seed: 1, batchSize: 24);
        var all = Fused(network, loss, null, inputs, labels, rows, seed: 1, batchSize: 24);

        // Mining drops pairs, so the two losses differ: the miner's rule is at work in the fused step (the test above
        // checks it against autograd's).
        Math.Abs(mined.Loss - all.Loss).Should().BeGreaterThan(1e-3f);
        using var indices = tensor(rows);
        using var embeddings = network.call(inputs.Gather(indices));
        using var batchLabels = tensor(rows.Select(r => (long)labels[r]).ToArray());
        using var pairs = (MinedPairs)miner.Mine(embeddings, batchLabels);
        (pairs.PositiveCount + pairs.NegativeCount).Should().BeGreaterThan(0).And.BeLessThan(24 * 23, "some pairs are kept, some not");
    }

    [Fact]
    public void It_applies_only_to_what_it_computes()
    {
        using var inputs = Inputs();
        using var network = Network(Activation.Relu, 0.1);
        var labels = Labels(3);

        string? Reason(IBatchLoss loss, IMiner? miner)
        {
            using var step = FusedBatchStep.TryCreate(network, loss, miner, inputs, labels, 16, out string? reason);
            (step is null).Should().Be(reason is not null);
            return reason;
        }

        Reason(new MultiSimilarityLoss(), new MultiSimilarityMiner()).Should().BeNull();
        Reason(new MultiSimilarityLoss(), null).Should().BeNull();
        Reason(new MultiSimilarityLoss(similarity: new DotProductSimilarity()), null).Should().Contain(nameof(DotProductSimilarity));
        Reason(new MultiSimilarityLoss(), new MultiSimilarityMiner(distance: new EuclideanDistance())).Should().Contain(nameof(EuclideanDistance));
        Reason(new MultiSimilarityLoss(), new BatchHardMiner()).Should().Contain(nameof(BatchHardMiner));
        Reason(new TripletMarginLoss(), null).Should().Contain(nameof(TripletMarginLoss));
    }

    [Fact]
    public void Training_with_the_fused_step_follows_the_autograd_path()
    {
        var (inputs, labels) = Blobs.Create(perClass: 40, classes: 4, dimensions: 6, seed: 4);
        using var _ = inputs;

        (double[] Losses, float[] Weights) Run(bool fused)
        {
            var logger = new RecordingLogger();
            manual_seed(3);
            using var network = new MlpEmbeddingNetwork(new MlpOptions { InputSize = 6, LayerSizes = new[] { 32, 16 }, Dropout = 0.1 });
            var loss = new MultiSimilarityLoss();
            var miner = new MultiSimilarityMiner();
            var options = new EmbeddingTrainerOptions
            {
                Epochs = 3, SamplesPerClass = 8, BatchSize = 32, Seed = 5, MinerWarmupEpochs = 1, FusedStep = fused,
                Optimizer = OptimizerSettings.Sgd(0.05),
            };
            var reports = new EmbeddingTrainer(loss, options, miner) { Logger = logger }.Fit(network, inputs, labels);
            // The trainer says which step it took: the comparison below is between the two, not autograd and itself.
            logger.Events.Should().ContainSingle(e => e.Id == TrainingTelemetry.StepChosen).Which.Message
                .Should().Contain(fused ? "fused step" : "autograd step: EmbeddingTrainerOptions.FusedStep is false");
            return (reports.Select(r => r.Loss).ToArray(), network.parameters().SelectMany(Tensors.Values).ToArray());
        }

        var fused = Run(fused: true);
        var generic = Run(fused: false);

        fused.Losses.Should().Equal(generic.Losses, (a, b) => Math.Abs(a - b) <= 1e-4 * Math.Max(1, Math.Abs(b)));
        fused.Weights.Should().Equal(generic.Weights, (a, b) => Math.Abs(a - b) <= 1e-4f);
        fused.Losses[^1].Should().BeLessThan(fused.Losses[0], "it learns");
    }
}
