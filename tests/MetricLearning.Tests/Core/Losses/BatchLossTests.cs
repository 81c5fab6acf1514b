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

    private static Tensor Embeddings() => Tensors.Rows(Points);

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
                double s = Reference.Cosine(Points[i], Points[k]);
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
        double pull = (Math.Pow(Math.Max(Reference.Euclid(Points[0], Points[1]) - 0.2, 0), 2) + Math.Pow(Math.Max(Reference.Euclid(Points[2], Points[3]) - 0.2, 0), 2)) / 2;
        double push = new[] { (0, 2), (0, 3), (1, 2), (1, 3) }
            .Select(p => Math.Pow(Math.Max(1.5 - Reference.Euclid(Points[p.Item1], Points[p.Item2]), 0), 2)).Average();
        using var embeddings = Embeddings();
        using var labels = tensor(Classes);

        using var loss = new ContrastiveBatchLoss(positiveMargin: 0.2, negativeMargin: 1.5).Compute(embeddings, labels);

        loss.item<float>().Should().BeApproximately((float)(pull + push), 1e-5f);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.1)]
    public void Supervised_contrastive_matches_the_formula_by_hand(double temperature)
    {
        // Anchors 0..3; each has one positive (its class has two samples); the softmax runs over the other three.
        double total = 0;
        for (int i = 0; i < Points.Length; i++)
        {
            double denominator = Enumerable.Range(0, Points.Length).Where(a => a != i).Sum(a => Math.Exp(Reference.Cosine(Points[i], Points[a]) / temperature));
            int p = Enumerable.Range(0, Points.Length).Single(k => k != i && Classes[k] == Classes[i]);
            total += -Math.Log(Math.Exp(Reference.Cosine(Points[i], Points[p]) / temperature) / denominator);
        }

        using var embeddings = Embeddings();
        using var labels = tensor(Classes);

        new SupConLoss(temperature).Compute(embeddings, labels).item<float>().Should().BeApproximately((float)(total / Points.Length), 1e-4f);
    }

    [Fact]
    public void Supervised_contrastive_skips_anchors_without_a_positive()
    {
        // Class 2 has one sample: anchors 0 and 1 (class 0) count, anchor 2 does not.
        var points = new[] { new[] { 1.0, 0 }, new[] { 0.6, 0.8 }, new[] { 0, 1.0 } };
        double Loss(int i, int p) => -Math.Log(Math.Exp(Reference.Cosine(points[i], points[p]) / 0.5) /
            Enumerable.Range(0, 3).Where(a => a != i).Sum(a => Math.Exp(Reference.Cosine(points[i], points[a]) / 0.5)));
        using var embeddings = Tensors.Rows(points);
        using var labels = tensor(new long[] { 0, 0, 2 });

        new SupConLoss(0.5).Compute(embeddings, labels).item<float>().Should().BeApproximately((float)((Loss(0, 1) + Loss(1, 0)) / 2), 1e-4f);
    }

    [Fact]
    public void Triplet_margin_averages_the_violating_triplets_worked_out_by_hand()
    {
        // Points on a line, classes 0, 0, 1: x = 0, 1, 1.5 (Euclidean, not normalised), margin 0.7.
        // Triplets (a, p, n): (0, 1, 2): d(0,1) - d(0,2) + 0.7 = 1 - 1.5 + 0.7 = 0.2
        //                     (1, 0, 2): d(1,0) - d(1,2) + 0.7 = 1 - 0.5 + 0.7 = 1.2
        // Both violate, so the loss is (0.2 + 1.2) / 2 = 0.7. With margin 0.4 only the second does: 0.9 / 1.
        using var embeddings = tensor(new[] { 0f, 1f, 1.5f }, new long[] { 3, 1 });
        using var labels = tensor(new long[] { 0, 0, 1 });

        new TripletMarginLoss(0.7, new LpDistance(2)).Compute(embeddings, labels).item<float>().Should().BeApproximately(0.7f, 1e-5f);
        new TripletMarginLoss(0.4, new LpDistance(2)).Compute(embeddings, labels).item<float>().Should().BeApproximately(0.9f, 1e-5f);
    }

    [Fact]
    public void Triplet_margin_with_a_similarity_reads_larger_as_closer()
    {
        // Negated distances as a similarity give the same triplet violations as the distances.
        var negated = new NegatedLp();
        using var embeddings = tensor(new[] { 0f, 1f, 1.5f }, new long[] { 3, 1 });
        using var labels = tensor(new long[] { 0, 0, 1 });

        new TripletMarginLoss(0.7, negated).Compute(embeddings, labels).item<float>().Should().BeApproximately(0.7f, 1e-5f);
    }

    [Fact]
    public void Triplet_margin_is_zero_when_every_negative_is_far_enough()
    {
        using var embeddings = tensor(new[] { 0f, 0.1f, 5f, 5.1f }, new long[] { 4, 1 });
        using var labels = tensor(new long[] { 0, 0, 1, 1 });

        new TripletMarginLoss(1, new LpDistance(2)).Compute(embeddings, labels).item<float>().Should().Be(0f);
    }

    [Fact]
    public void Gradients_are_finite_when_embeddings_coincide()
    {
        using var embeddings = Tensors.Rows(new[] { 1f, 0f }, new[] { 1f, 0f }, new[] { 1f, 0f }).requires_grad_();
        using var labels = tensor(new long[] { 0, 0, 1 });

        foreach (IBatchLoss loss in new IBatchLoss[] { new ContrastiveBatchLoss(), new MultiSimilarityLoss(), new TripletMarginLoss(), new SupConLoss() })
        {
            embeddings.grad?.zero_();
            loss.Compute(embeddings, labels).backward();
            Tensors.Values(embeddings.grad!).Should().OnlyContain(g => float.IsFinite(g), loss.GetType().Name);
        }
    }

    [Fact]
    public void A_batch_of_one_class_costs_only_its_positive_half()
    {
        using var embeddings = Embeddings();
        using var labels = tensor(new long[] { 3, 3, 3, 3 });

        double expected = Enumerable.Range(0, 4).SelectMany(i => Enumerable.Range(i + 1, 3 - i).Select(j => Math.Pow(Reference.Euclid(Points[i], Points[j]), 2))).Average();

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
