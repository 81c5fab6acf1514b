using System;
using System.Linq;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Losses;

public sealed class BatchLossTests
{
    // Four 2-d embeddings, classes 0, 0, 1, 1.
    private static readonly double[][] Points = { new[] { 1.0, 0 }, new[] { 0.6, 0.8 }, new[] { 0, 1.0 }, new[] { -1.0, 0.2 } };
    private static readonly long[] Classes = { 0, 0, 1, 1 };

    private static Tensor Embeddings() => Tensors.Rows(Points.Select(p => p.Select(v => (float)v).ToArray()).ToArray());

    private static double Cosine(double[] a, double[] b) =>
        (a[0] * b[0] + a[1] * b[1]) / (Math.Sqrt(a[0] * a[0] + a[1] * a[1]) * Math.Sqrt(b[0] * b[0] + b[1] * b[1]));

    private static double Euclid(double[] a, double[] b) => Math.Sqrt(Math.Pow(a[0] - b[0], 2) + Math.Pow(a[1] - b[1], 2));

    /// <summary>The multi-similarity loss written out with loops over anchors and pairs.</summary>
    private static double MultiSimilarityByHand(double alpha, double beta, double lambda)
    {
        double total = 0;
        for (int i = 0; i < Points.Length; i++)
        {
            double pos = 0, neg = 0;
            for (int k = 0; k < Points.Length; k++)
            {
                if (k == i)
                    continue;
                double s = Cosine(Points[i], Points[k]);
                if (Classes[i] == Classes[k])
                    pos += Math.Exp(-alpha * (s - lambda));
                else
                    neg += Math.Exp(beta * (s - lambda));
            }

            total += Math.Log(1 + pos) / alpha + Math.Log(1 + neg) / beta;
        }

        return total / Points.Length;
    }

    [Theory]
    [InlineData(2.0, 50.0, 0.5)]
    [InlineData(1.0, 5.0, 0.0)]
    public void Multi_similarity_matches_the_formula_by_hand(double alpha, double beta, double lambda)
    {
        using var embeddings = Embeddings();
        using var labels = tensor(Classes);

        using var loss = new MultiSimilarityLoss(alpha, beta, lambda).Compute(embeddings, labels);

        loss.item<float>().Should().BeApproximately((float)MultiSimilarityByHand(alpha, beta, lambda), 1e-4f);
    }

    [Fact]
    public void Contrastive_over_all_pairs_matches_the_formula_by_hand()
    {
        // Same-class pairs (0,1), (2,3); different-class pairs (0,2), (0,3), (1,2), (1,3).
        double pull = (Math.Pow(Math.Max(Euclid(Points[0], Points[1]) - 0.2, 0), 2) + Math.Pow(Math.Max(Euclid(Points[2], Points[3]) - 0.2, 0), 2)) / 2;
        double push = new[] { (0, 2), (0, 3), (1, 2), (1, 3) }
            .Select(p => Math.Pow(Math.Max(1.5 - Euclid(Points[p.Item1], Points[p.Item2]), 0), 2)).Average();
        using var embeddings = Embeddings();
        using var labels = tensor(Classes);

        using var loss = new ContrastiveBatchLoss(positiveMargin: 0.2, negativeMargin: 1.5).Compute(embeddings, labels);

        loss.item<float>().Should().BeApproximately((float)(pull + push), 1e-5f);
    }

    [Fact]
    public void Gradients_are_finite_when_embeddings_coincide()
    {
        using var embeddings = Tensors.Rows(new[] { 1f, 0f }, new[] { 1f, 0f }, new[] { 1f, 0f }).requires_grad_();
        using var labels = tensor(new long[] { 0, 0, 1 });

        new ContrastiveBatchLoss().Compute(embeddings, labels).backward();
        var contrastive = Tensors.Values(embeddings.grad!);
        embeddings.grad!.zero_();
        new MultiSimilarityLoss().Compute(embeddings, labels).backward();

        contrastive.Should().OnlyContain(g => float.IsFinite(g));
        Tensors.Values(embeddings.grad!).Should().OnlyContain(g => float.IsFinite(g));
    }

    [Fact]
    public void A_batch_of_one_class_costs_only_its_positive_half()
    {
        using var embeddings = Embeddings();
        using var labels = tensor(new long[] { 3, 3, 3, 3 });

        double expected = Enumerable.Range(0, 4).SelectMany(i => Enumerable.Range(i + 1, 3 - i).Select(j => Math.Pow(Euclid(Points[i], Points[j]), 2))).Average();

        new ContrastiveBatchLoss().Compute(embeddings, labels).item<float>().Should().BeApproximately((float)expected, 1e-5f);
    }

    [Fact]
    public void The_wrong_kind_of_comparison_is_refused()
    {
        var similarityForContrastive = () => new ContrastiveBatchLoss(distance: new CosineSimilarity());
        var distanceForMultiSimilarity = () => new MultiSimilarityLoss(similarity: new EuclideanDistance());

        similarityForContrastive.Should().Throw<ArgumentException>().WithMessage("*needs a distance*CosineSimilarity*");
        distanceForMultiSimilarity.Should().Throw<ArgumentException>().WithMessage("*needs a similarity*EuclideanDistance*");
    }

    [Fact]
    public void Labels_that_do_not_match_the_batch_are_refused()
    {
        using var embeddings = Embeddings();
        using var labels = tensor(new long[] { 0, 1, 0 });
        using var floats = tensor(new[] { 0f, 1f, 0f, 1f });

        var act = () => new MultiSimilarityLoss().Compute(embeddings, labels);
        var floatLabels = () => new MultiSimilarityLoss().Compute(embeddings, floats);

        act.Should().Throw<ArgumentException>().WithMessage("*3 labels for 4 embeddings*");
        floatLabels.Should().Throw<ArgumentException>().WithMessage("*integer class labels*Float32*");
    }
}
