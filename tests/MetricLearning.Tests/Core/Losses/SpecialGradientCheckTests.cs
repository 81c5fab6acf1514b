using System;
using FluentAssertions;
using MetricLearning.Losses;
using MetricLearning.Mining;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Losses;

/// <summary>
/// MarginLoss, FastApLoss, HistogramLoss, MultipleLosses and CrossBatchMemory against a float64 central difference
/// (<see cref="GradientCheckTests.CheckGradient"/>), at random points where the gradient is not vacuous.
/// </summary>
public sealed class SpecialGradientCheckTests
{
    /// <summary>Eight embeddings of four classes, two each, so every anchor has a positive and negatives.</summary>
    private static readonly long[] Labels = { 0, 0, 1, 1, 2, 2, 3, 3 };

    [Theory]
    [InlineData(false, null)]
    [InlineData(true, null)]
    [InlineData(true, 4)]
    public void Margin_loss(bool learnBeta, int? classes)
    {
        using var loss = PmlFixtureFloat64(() => new MarginLoss(margin: 0.2, nu: 0.1, beta: 0.9, learnBeta: learnBeta, classes: classes));
        if (loss.LearntBeta is { } beta)
        {
            using (no_grad())
            using (var values = linspace(0.7, 1.1, beta.shape[0], dtype: ScalarType.Float64))
                beta.copy_(values);
        }

        using var labels = tensor(Labels);
        GradientCheckTests.CheckGradient(x => loss.Compute(x, labels), GradientCheckTests.Random(20, Labels.Length, 5), $"margin loss, learnt beta {learnBeta}, classes {classes}");
    }

    [Fact]
    public void Margin_loss_with_mined_triplets()
    {
        var loss = new MarginLoss(beta: 0.9);
        using var labels = tensor(Labels);
        using var start = GradientCheckTests.Random(21, Labels.Length, 5);
        using var mined = new BatchHardMiner().Mine(start, labels);
        GradientCheckTests.CheckGradient(x => loss.Compute(x, labels, mined), start, "margin loss, batch-hard triplets");
    }

    [Theory]
    [InlineData(10)]
    [InlineData(3)]
    public void FastAP(int bins)
    {
        var loss = new FastApLoss(bins);
        using var labels = tensor(Labels);
        GradientCheckTests.CheckGradient(x => loss.Compute(x, labels), GradientCheckTests.Random(22, Labels.Length, 5), $"FastAP, {bins} bins");
    }

    [Theory]
    [InlineData(100)]
    [InlineData(7)]
    public void Histogram(int bins)
    {
        var loss = new HistogramLoss(bins);
        using var labels = tensor(Labels);
        GradientCheckTests.CheckGradient(x => loss.Compute(x, labels), GradientCheckTests.Random(23, Labels.Length, 5), $"histogram, {bins} bins");
    }

    [Fact]
    public void Multiple_losses()
    {
        using var loss = new MultipleLosses(new IBatchLoss[] { new MarginContrastiveLoss(0.2, 0.8), new MultiSimilarityLoss(), new FastApLoss() },
            new[] { 0.7, 1.5, 0.4 }, new IMiner?[] { null, new MultiSimilarityMiner(epsilon: 0.5), null });
        using var labels = tensor(Labels);
        GradientCheckTests.CheckGradient(x => loss.Compute(x, labels), GradientCheckTests.Random(24, Labels.Length, 5), "multiple losses");
    }

    /// <summary>
    /// The memory's gradient is with respect to the batch as queries, the memory (which holds the batch's own copy,
    /// detached) held constant, as in pytorch-metric-learning: so the difference is taken with the references fixed at
    /// the starting point (through the loss's query-versus-reference terms), and the memory's gradient must equal it.
    /// </summary>
    [Theory]
    [InlineData("contrastive")]
    [InlineData("multi-similarity")]
    public void Cross_batch_memory(string lossName)
    {
        using var labels = tensor(Labels);
        using var earlier = GradientCheckTests.Random(25, Labels.Length, 5);
        using var earlierLabels = tensor(new long[] { 3, 2, 1, 0, 0, 1, 2, 3 });
        using var start = GradientCheckTests.Random(26, Labels.Length, 5);
        BatchLoss wrapped = lossName == "contrastive" ? new MarginContrastiveLoss(0.3, 1.2) : new MultiSimilarityLoss();

        // The memory after the earlier batch and this one: the earlier batch, then this one (rows 8 to 15).
        using var references = cat(new[] { earlier, start }, 0);
        using var referenceLabels = cat(new[] { earlierLabels, labels }, 0);
        using var same = labels.unsqueeze(1).eq(referenceLabels.unsqueeze(0));
        using var noEarlier = zeros(Labels.Length, Labels.Length, dtype: ScalarType.Bool);
        using var itself = eye(Labels.Length, dtype: ScalarType.Bool);
        using var self = cat(new[] { noEarlier, itself }, 1);
        using var positive = same.logical_and(self.logical_not());
        using var negative = same.logical_not();
        Tensor Fixed(Tensor x) => wrapped.Reduce(((IReferenceBatchLoss)wrapped).ComputeTerms(x, references, positive, negative), x, labels);
        GradientCheckTests.CheckGradient(Fixed, start, $"cross-batch memory, {lossName}, references fixed");

        using var memory = new CrossBatchMemory(wrapped, 5, memorySize: 20, dtype: ScalarType.Float64);
        using (memory.Compute(earlier, earlierLabels))
        {
        }

        using var point = start.detach().clone().requires_grad_(true);
        using var value = memory.Compute(point, labels);
        value.backward();
        using var expectedPoint = start.detach().clone().requires_grad_(true);
        using var expected = Fixed(expectedPoint);
        expected.backward();
        value.item<double>().Should().BeApproximately(expected.item<double>(), 1e-12);
        point.grad!.allclose(expectedPoint.grad!, 1e-10, 1e-12).Should().BeTrue("the memory's gradient is the fixed-reference one");
    }

    private static T PmlFixtureFloat64<T>(Func<T> create) => TestSupport.PmlFixture.WithFloat64Default(create);
}
