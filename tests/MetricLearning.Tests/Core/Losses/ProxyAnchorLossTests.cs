using System;
using System.Linq;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Evaluation;
using MetricLearning.Losses;
using MetricLearning.Mining;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using MetricLearning.Training;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Losses;

public sealed class ProxyAnchorLossTests
{
    // Four 2-d embeddings of classes 0, 0, 1, 1 and three proxies; class 2 has no embedding in the batch.
    private static readonly double[][] Points = { new[] { 1.0, 0 }, new[] { 0.6, 0.8 }, new[] { 0, 1.0 }, new[] { -1.0, 0.2 } };
    private static readonly long[] Classes = { 0, 0, 1, 1 };
    private static readonly double[][] ProxyRows = { new[] { 1.0, 0.1 }, new[] { 0.0, 2.0 }, new[] { -1.0, -1.0 } };

    private static ProxyAnchorLoss Loss(double alpha, double delta)
    {
        var loss = new ProxyAnchorLoss(classes: 3, embeddingSize: 2, alpha, delta);
        using var noGrad = no_grad();
        using var rows = Tensors.Rows(ProxyRows);
        loss.Proxies.copy_(rows);
        return loss;
    }

    [Theory]
    [InlineData(2.0, 0.1)]
    [InlineData(32.0, 0.1)]
    public void Matches_the_formula_by_hand(double alpha, double delta)
    {
        // Pull: over the proxies of the classes present (0 and 1); push: over all three proxies.
        double pull = 0, push = 0;
        for (int c = 0; c < 3; c++)
        {
            double positives = 0, negatives = 0;
            for (int i = 0; i < Points.Length; i++)
            {
                double s = Reference.Cosine(Points[i], ProxyRows[c]);
                if (Classes[i] == c)
                    positives += Math.Exp(-alpha * (s - delta));
                else
                    negatives += Math.Exp(alpha * (s + delta));
            }

            if (c < 2)
                pull += Math.Log(1 + positives) / 2;
            push += Math.Log(1 + negatives) / 3;
        }

        using var loss = Loss(alpha, delta);
        using var embeddings = Tensors.Rows(Points);
        using var labels = tensor(Classes);

        loss.Compute(embeddings, labels).item<float>().Should().BeApproximately((float)(pull + push), 1e-4f * (float)(pull + push));
    }

    [Fact]
    public void Gradients_reach_the_embeddings_and_the_proxies()
    {
        using var loss = Loss(32, 0.1);
        using var embeddings = Tensors.Rows(Points).requires_grad_();
        using var labels = tensor(Classes);

        loss.Compute(embeddings, labels).backward();

        Tensors.Values(embeddings.grad!).Should().OnlyContain(g => float.IsFinite(g)).And.Contain(g => g != 0);
        Tensors.Values(loss.Proxies.grad!).Should().OnlyContain(g => float.IsFinite(g)).And.Contain(g => g != 0);
    }

    [Fact]
    public void Bad_batches_and_settings_are_refused_by_name()
    {
        using var loss = Loss(32, 0.1);
        using var embeddings = randn(4, 2);
        using var wide = randn(4, 5);
        using var outside = tensor(new long[] { 0, 1, 2, 3 });
        using var labels = tensor(Classes);
        using var mined = new MinedTriplets(tensor(new long[] { 0 }), tensor(new long[] { 1 }), tensor(new long[] { 2 }), 4);

        var withMined = () => loss.Compute(embeddings, labels, mined);
        var widthDiffers = () => loss.Compute(wide, labels);
        var labelOutside = () => loss.Compute(embeddings, outside);
        var oneClass = () => new ProxyAnchorLoss(classes: 1, embeddingSize: 2);

        withMined.Should().Throw<ArgumentException>().WithMessage("*no mined pairs or triplets*without a miner*");
        widthDiffers.Should().Throw<ArgumentException>().WithMessage("*5 wide*proxies 2*");
        labelOutside.Should().Throw<ArgumentException>().WithMessage("*Label 3 is outside the 3 classes*");
        oneClass.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("classes");
    }

    [Fact]
    public void The_trainer_learns_the_proxies_with_the_network()
    {
        var (inputs, labels) = Blobs.CreateHard(perClass: 40, classes: 4, dimensions: 16, seed: 16);
        using var _ = inputs;
        manual_seed(16);
        using var network = new MlpEmbeddingNetwork(new MlpOptions { InputSize = 16, LayerSizes = new[] { 32, 8 }, Dropout = 0, ActivateLastLayer = false });
        using var loss = new ProxyAnchorLoss(classes: 4, embeddingSize: 8);
        using var before = loss.Proxies.detach().clone();
        var options = new EmbeddingTrainerOptions { Epochs = 30, SamplesPerClass = 8, BatchSize = 32, Optimizer = { LearningRate = 1e-2 }, Seed = 16 };

        double untrained = Retrieval.PrecisionAt1(network, inputs, labels, new CosineSimilarity());
        var reports = new EmbeddingTrainer(loss, options).Fit(network, inputs, labels);

        reports[^1].Loss.Should().BeLessThan(reports[0].Loss);
        loss.Proxies.detach().sub(before).abs().max().item<float>().Should().BeGreaterThan(0.01f, "the proxies are trained too");
        Retrieval.PrecisionAt1(network, inputs, labels, new CosineSimilarity()).Should().BeGreaterThan(untrained + 0.25, "training beats the same network untrained by a margin");
    }
}
