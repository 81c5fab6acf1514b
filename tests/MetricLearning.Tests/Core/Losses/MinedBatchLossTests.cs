using System;
using System.Linq;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Mining;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Losses;

/// <summary>The batch losses given mined pairs or triplets instead of every valid one.</summary>
public sealed class MinedBatchLossTests
{
    // Points on a line x = 0, 1, 1.5 with classes 0, 0, 1; plain Euclidean distance.
    private static Tensor Line() => tensor(new[] { 0f, 1f, 1.5f }, new long[] { 3, 1 });

    private static readonly long[] LineClasses = { 0, 0, 1 };

    // Four 2-d points, classes 0, 0, 1, 1 (as in BatchLossTests), compared by cosine.
    private static readonly double[][] Points = { new[] { 1.0, 0 }, new[] { 0.6, 0.8 }, new[] { 0, 1.0 }, new[] { -1.0, 0.2 } };

    private static Tensor PointRows() => Tensors.Rows(Points);

    private static MinedTriplets Triplets(long batch, params (long A, long P, long N)[] triplets) => new(
        tensor(triplets.Select(t => t.A).ToArray()), tensor(triplets.Select(t => t.P).ToArray()), tensor(triplets.Select(t => t.N).ToArray()), batch);

    private static MinedPairs Pairs(long batch, (long, long)[] positives, (long, long)[] negatives) => new(
        tensor(positives.Select(p => p.Item1).ToArray()), tensor(positives.Select(p => p.Item2).ToArray()),
        tensor(negatives.Select(p => p.Item1).ToArray()), tensor(negatives.Select(p => p.Item2).ToArray()), batch);

    [Fact]
    public void Triplet_loss_over_mined_triplets_uses_only_those_and_has_the_gradient_worked_out_by_hand()
    {
        // Only (1, 0, 2): ℓ = d(1,0) − d(1,2) + 0.7 = 1 − 0.5 + 0.7 = 1.2 (the unmined loss averages it with 0.2).
        // ℓ = (x1 − x0) − (x2 − x1) + m, so ∂ℓ/∂x = (−1, 2, −1).
        using var embeddings = Line().requires_grad_();
        using var labels = tensor(LineClasses);
        using var mined = Triplets(3, (1, 0, 2));

        using var loss = new TripletMarginLoss(0.7, new LpDistance(2)).Compute(embeddings, labels, mined);
        loss.backward();

        loss.item<float>().Should().BeApproximately(1.2f, 1e-5f);
        Tensors.Values(embeddings.grad!).Should().Equal(new[] { -1f, 2f, -1f }, (a, b) => Math.Abs(a - b) < 1e-5);
    }

    [Fact]
    public void Triplet_loss_forms_triplets_from_mined_pairs_that_share_an_anchor()
    {
        // Positive pair (0,1); negative pairs (0,2) and (1,2): only anchor 0 has both → triplet (0,1,2): 1 − 1.5 + 0.7.
        using var embeddings = Line();
        using var labels = tensor(LineClasses);
        using var mined = Pairs(3, new[] { (0L, 1L) }, new[] { (0L, 2L), (1L, 2L) });

        new TripletMarginLoss(0.7, new LpDistance(2)).Compute(embeddings, labels, mined).item<float>().Should().BeApproximately(0.2f, 1e-5f);
    }

    [Fact]
    public void Contrastive_loss_averages_each_kind_over_the_mined_pairs()
    {
        // Mined positive (0,1): d = 1 → 1² = 1. Mined negative (1,2): d = 0.5 → (1 − 0.5)² = 0.25. Total 1.25.
        // Without mining: positives (0,1),(1,0) → 1; negatives (0,2),(2,0) → 0 and (1,2),(2,1) → 0.25: mean 0.125.
        using var embeddings = Line();
        using var labels = tensor(LineClasses);
        using var mined = Pairs(3, new[] { (0L, 1L) }, new[] { (1L, 2L) });
        var loss = new ContrastiveBatchLoss(distance: new LpDistance(2));

        loss.Compute(embeddings, labels, mined).item<float>().Should().BeApproximately(1.25f, 1e-5f);
        loss.Compute(embeddings, labels).item<float>().Should().BeApproximately(1.125f, 1e-5f);
    }

    [Fact]
    public void Mined_triplets_give_their_pairs_to_a_pair_loss()
    {
        // Triplet (0,1,2) → positive (0,1) costing 1 and negative (0,2) at 1.5, beyond the margin: 0.
        using var embeddings = Line();
        using var labels = tensor(LineClasses);
        using var mined = Triplets(3, (0, 1, 2));

        new ContrastiveBatchLoss(distance: new LpDistance(2)).Compute(embeddings, labels, mined).item<float>().Should().BeApproximately(1f, 1e-5f);
    }

    [Fact]
    public void Multi_similarity_over_mined_pairs_sums_only_each_anchors_mined_pairs()
    {
        // Mined: positive (0,1), negatives (0,2) and (3,0). Anchor 0 has both terms, anchor 3 only the negative one,
        // anchors 1 and 2 nothing; the mean is over all four anchors.
        const double alpha = 2, beta = 50, lambda = 0.5;
        double Pull(int a, int p) => Math.Log(1 + Math.Exp(-alpha * (Reference.Cosine(Points[a], Points[p]) - lambda))) / alpha;
        double Push(int a, int n) => Math.Log(1 + Math.Exp(beta * (Reference.Cosine(Points[a], Points[n]) - lambda))) / beta;
        double expected = (Pull(0, 1) + Push(0, 2) + Push(3, 0)) / 4;
        using var embeddings = PointRows();
        using var labels = tensor(new long[] { 0, 0, 1, 1 });
        using var mined = Pairs(4, new[] { (0L, 1L) }, new[] { (0L, 2L), (3L, 0L) });

        new MultiSimilarityLoss(alpha, beta, lambda).Compute(embeddings, labels, mined).item<float>().Should().BeApproximately((float)expected, 1e-5f);
    }

    [Fact]
    public void Supervised_contrastive_over_mined_pairs_runs_its_softmax_over_the_mined_partners()
    {
        // Anchor 0: positive 1, negative 2 mined → −log(e^{S01/τ} / (e^{S01/τ} + e^{S02/τ})). No other anchor has
        // a mined positive, so that is the loss.
        const double tau = 0.5;
        double expected = -Math.Log(Math.Exp(Reference.Cosine(Points[0], Points[1]) / tau) /
            (Math.Exp(Reference.Cosine(Points[0], Points[1]) / tau) + Math.Exp(Reference.Cosine(Points[0], Points[2]) / tau)));
        using var embeddings = PointRows();
        using var labels = tensor(new long[] { 0, 0, 1, 1 });
        using var mined = Pairs(4, new[] { (0L, 1L) }, new[] { (0L, 2L), (3L, 1L) });

        new SupConLoss(tau).Compute(embeddings, labels, mined).item<float>().Should().BeApproximately((float)expected, 1e-5f);
    }

    [Fact]
    public void Nothing_mined_costs_zero_and_still_backpropagates()
    {
        using var embeddings = Line().requires_grad_();
        using var labels = tensor(LineClasses);
        var empty = Array.Empty<(long, long)>();

        foreach (IBatchLoss loss in new IBatchLoss[]
                 {
                     new ContrastiveBatchLoss(), new MultiSimilarityLoss(), new TripletMarginLoss(), new SupConLoss(),
                 })
        {
            using var mined = Pairs(3, empty, empty);
            embeddings.grad?.zero_();
            using var value = loss.Compute(embeddings, labels, mined);
            value.backward();
            value.item<float>().Should().Be(0f, loss.GetType().Name);
            Tensors.Values(embeddings.grad!).Should().OnlyContain(g => g == 0f, loss.GetType().Name);
        }
    }

    [Fact]
    public void Indices_mined_from_another_batch_are_refused()
    {
        using var embeddings = Line();
        using var labels = tensor(LineClasses);
        using var mined = Triplets(5, (0, 1, 4));

        var act = () => new TripletMarginLoss().Compute(embeddings, labels, mined);
        var pairLoss = () => new ContrastiveBatchLoss().Compute(embeddings, labels, mined);

        act.Should().Throw<ArgumentException>().WithMessage("*for a batch of 5 embeddings*given 3*");
        pairLoss.Should().Throw<ArgumentException>().WithMessage("*for a batch of 5 embeddings*given 3*");
    }

    [Fact]
    public void A_miner_feeds_the_loss_through_the_interface()
    {
        // Batch-hard on the line: anchor 0 → (0, 1, 2), anchor 1 → (1, 0, 2); anchor 2 has no positive.
        // Margin 0.7: ℓ = 0.2 and 1.2, mean 0.7, the same as all triplets here (there are only these two).
        using var embeddings = Line();
        using var labels = tensor(LineClasses);
        IBatchLoss loss = new TripletMarginLoss(0.7, new LpDistance(2));

        using var mined = new BatchHardMiner(new LpDistance(2)).Mine(embeddings, labels);

        loss.Compute(embeddings, labels, mined).item<float>().Should().BeApproximately(0.7f, 1e-5f);
        loss.Compute(embeddings, labels).item<float>().Should().BeApproximately(0.7f, 1e-5f);
    }
}
