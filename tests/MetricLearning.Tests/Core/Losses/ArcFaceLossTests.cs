using System;
using System.Linq;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Evaluation;
using MetricLearning.Losses;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using MetricLearning.Training;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Losses;

public sealed class ArcFaceLossTests
{
    // Four 2-d embeddings of classes 0, 0, 1, 2 and three class centres. The last embedding points away from its
    // centre, (1, 1) against (−1, −1): θ = π, so θ + m is capped at π.
    private static readonly double[][] Points = { new[] { 1.0, 0 }, new[] { 0.6, 0.8 }, new[] { 0, 1.0 }, new[] { 1.0, 1.0 } };
    private static readonly long[] Classes = { 0, 0, 1, 2 };
    private static readonly double[][] CentreRows = { new[] { 1.0, 0.1 }, new[] { 0.0, 2.0 }, new[] { -1.0, -1.0 } };

    private static ArcFaceLoss Loss(double margin, double scale)
    {
        var loss = new ArcFaceLoss(classes: 3, embeddingSize: 2, margin, scale);
        using var noGrad = no_grad();
        using var rows = Tensors.Rows(CentreRows);
        loss.Centres.copy_(rows);
        return loss;
    }

    private static Tensor Embeddings() => Tensors.Rows(Points);

    [Theory]
    [InlineData(0.3, 4.0)]
    [InlineData(0.5, 64.0)]
    [InlineData(0.0, 1.0)]
    public void Matches_the_formula_by_hand(double margin, double scale)
    {
        double total = 0;
        for (int i = 0; i < Points.Length; i++)
        {
            var logits = Enumerable.Range(0, 3).Select(j =>
            {
                double theta = Math.Acos(Math.Clamp(Reference.Cosine(Points[i], CentreRows[j]), -1 + 1e-7, 1 - 1e-7));
                if (j != Classes[i])
                    return scale * Math.Cos(theta);
                // Past π − m the true class's logit continues as cos θ − m·sin m (ArcFace's usual extension).
                return scale * (theta <= Math.PI - margin ? Math.Cos(theta + margin) : Math.Cos(theta) - margin * Math.Sin(margin));
            }).ToArray();
            double max = logits.Max();
            total += -(logits[Classes[i]] - max - Math.Log(logits.Sum(l => Math.Exp(l - max))));
        }

        using var loss = Loss(margin, scale);
        using var embeddings = Embeddings();
        using var labels = tensor(Classes);

        double expected = total / Points.Length;
        loss.Compute(embeddings, labels).item<float>().Should().BeApproximately((float)expected, (float)(1e-4 * Math.Max(1, expected)));
    }

    [Fact]
    public void Gradients_are_finite_and_reach_the_centres_even_for_an_embedding_on_its_centre()
    {
        using var loss = Loss(0.5, 64);
        using var embeddings = Tensors.Rows(new[] { 1f, 0.1f }, new[] { 0f, 1f }, new[] { 1f, 1f }).requires_grad_();
        using var labels = tensor(new long[] { 0, 1, 2 });

        loss.Compute(embeddings, labels).backward();

        Tensors.Values(embeddings.grad!).Should().OnlyContain(g => float.IsFinite(g));
        Tensors.Values(loss.Centres.grad!).Should().OnlyContain(g => float.IsFinite(g)).And.Contain(g => g != 0);
    }

    [Fact]
    public void Mined_indices_labels_outside_the_classes_and_bad_settings_are_refused()
    {
        using var loss = Loss(0.5, 64);
        using var embeddings = Embeddings();
        using var outside = tensor(new long[] { 0, 1, 2, 5 });
        using var labels = tensor(Classes);
        using var mined = new MinedTriplets(tensor(new long[] { 0 }), tensor(new long[] { 1 }), tensor(new long[] { 2 }), 4);

        var withMined = () => loss.Compute(embeddings, labels, mined);
        var labelOutside = () => loss.Compute(embeddings, outside);
        var margin = () => new ArcFaceLoss(3, 2, margin: 2);

        withMined.Should().Throw<ArgumentException>().WithMessage("*no mined pairs or triplets*");
        labelOutside.Should().Throw<ArgumentException>().WithMessage("*Label 5 is outside the 3 classes of the centres*");
        margin.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("margin");
    }

    [Fact]
    public void The_trainer_learns_the_centres_with_the_network()
    {
        var (inputs, labels) = Blobs.CreateHard(perClass: 40, classes: 4, dimensions: 16, seed: 17);
        using var _ = inputs;
        manual_seed(17);
        using var network = new MlpEmbeddingNetwork(new MlpOptions { InputSize = 16, LayerSizes = new[] { 32, 8 }, Dropout = 0, ActivateLastLayer = false });
        using var loss = new ArcFaceLoss(classes: 4, embeddingSize: 8, scale: 16);
        using var before = loss.Centres.detach().clone();
        var options = new EmbeddingTrainerOptions { Epochs = 10, SamplesPerClass = 8, BatchSize = 32, Optimizer = { LearningRate = 3e-3 }, Seed = 17 };

        double untrained = Retrieval.PrecisionAt1(network, inputs, labels, new CosineSimilarity());
        var reports = new EmbeddingTrainer(loss, options).Fit(network, inputs, labels);

        reports[^1].Loss.Should().BeLessThan(reports[0].Loss);
        loss.Centres.detach().sub(before).abs().max().item<float>().Should().BeGreaterThan(0.001f, "the centres are trained too");
        Retrieval.PrecisionAt1(network, inputs, labels, new CosineSimilarity()).Should().BeGreaterThan(untrained + 0.25, "training beats the same network untrained by a margin");
    }
}
