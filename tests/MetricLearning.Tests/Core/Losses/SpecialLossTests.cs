using System;
using System.Linq;
using FluentAssertions;
using MetricLearning.Losses;
using MetricLearning.Mining;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Losses;

/// <summary>Behaviour of MarginLoss, FastApLoss, HistogramLoss, MultipleLosses and CrossBatchMemory: settings, inputs, empty batches, weights, the memory's queue.</summary>
public sealed class SpecialLossTests
{
    private static readonly long[] Labels = { 0, 0, 1, 1, 2, 2 };

    private static Tensor Batch(int seed, long rows = 6, long width = 4)
    {
        manual_seed(seed);
        return randn(rows, width);
    }

    [Fact]
    public void Bad_settings_throw_naming_the_parameter()
    {
        FluentActions.Invoking(() => new MarginLoss(margin: -1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("margin");
        FluentActions.Invoking(() => new MarginLoss(nu: double.NaN)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("nu");
        FluentActions.Invoking(() => new MarginLoss(beta: double.PositiveInfinity)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("beta");
        FluentActions.Invoking(() => new MarginLoss(classes: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("classes");
        FluentActions.Invoking(() => new MarginLoss(learnBeta: true, learningRateScale: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("learningRateScale");
        FluentActions.Invoking(() => new FastApLoss(0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("bins");
        FluentActions.Invoking(() => new HistogramLoss(0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("bins");
        FluentActions.Invoking(() => new MultipleLosses(Array.Empty<IBatchLoss>())).Should().Throw<ArgumentException>().WithParameterName("losses");
        FluentActions.Invoking(() => new MultipleLosses(new IBatchLoss[] { new FastApLoss() }, new[] { 1.0, 2.0 })).Should().Throw<ArgumentException>().WithParameterName("weights");
        FluentActions.Invoking(() => new MultipleLosses(new IBatchLoss[] { new FastApLoss() }, new[] { double.NaN })).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("weights");
        FluentActions.Invoking(() => new MultipleLosses(new IBatchLoss[] { new FastApLoss() }, miners: new IMiner?[] { null, null })).Should().Throw<ArgumentException>().WithParameterName("miners");
        FluentActions.Invoking(() => new CrossBatchMemory(new MultiSimilarityLoss(), 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("embeddingSize");
        FluentActions.Invoking(() => new CrossBatchMemory(new MultiSimilarityLoss(), 4, memorySize: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("memorySize");
        FluentActions.Invoking(() => new CrossBatchMemory(new MultiSimilarityLoss(), 4, dtype: ScalarType.Int64)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("dtype");
    }

    [Fact]
    public void The_memory_refuses_a_loss_or_miner_it_cannot_work_with_naming_it()
    {
        FluentActions.Invoking(() => new CrossBatchMemory(new TripletMarginLoss(), 4)).Should().Throw<ArgumentException>()
            .WithParameterName("loss").WithMessage("*TripletMarginLoss*");
        FluentActions.Invoking(() => new CrossBatchMemory(new MultipleLosses(new IBatchLoss[] { new MultiSimilarityLoss() }), 4)).Should().Throw<ArgumentException>()
            .WithMessage("*MultipleLosses*");
        FluentActions.Invoking(() => new CrossBatchMemory(new MultiSimilarityLoss(), 4, miner: new BatchHardMiner())).Should().Throw<ArgumentException>()
            .WithParameterName("miner").WithMessage("*BatchHardMiner*");
    }

    public static TheoryData<string> Losses => new() { "margin", "margin-learnt", "fastap", "histogram", "multiple", "memory" };

    private static IBatchLoss Create(string name) => name switch
    {
        "margin" => new MarginLoss(),
        "margin-learnt" => new MarginLoss(nu: 0.1, learnBeta: true, classes: 3),
        "fastap" => new FastApLoss(),
        "histogram" => new HistogramLoss(),
        "multiple" => new MultipleLosses(new IBatchLoss[] { new MarginLoss(), new FastApLoss() }, new[] { 0.5, 2 }),
        _ => new CrossBatchMemory(new MarginContrastiveLoss(), 4, memorySize: 16),
    };

    [Theory]
    [MemberData(nameof(Losses))]
    public void Bad_inputs_throw_ArgumentException(string name)
    {
        var loss = Create(name);
        using var embeddings = Batch(1);
        using var labels = tensor(Labels);
        using var tooFew = tensor(new long[] { 0, 0, 1 });
        using var floatLabels = tensor(new float[] { 0, 0, 1, 1, 2, 2 });
        using var matrixLabels = labels.view(2, 3);
        using var one = Batch(1, 1);
        using var oneLabel = tensor(new long[] { 0 });
        FluentActions.Invoking(() => loss.Compute(embeddings, tooFew)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => loss.Compute(embeddings, floatLabels)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => loss.Compute(embeddings, matrixLabels)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => loss.Compute(one, oneLabel)).Should().Throw<ArgumentException>();
        (loss as IDisposable)?.Dispose();
    }

    [Fact]
    public void Inputs_specific_to_a_loss_are_checked()
    {
        using var embeddings = Batch(2);
        using var labels = tensor(new long[] { 0, 0, 1, 1, 3, 3 });
        using var perClass = new MarginLoss(learnBeta: true, classes: 3);
        FluentActions.Invoking(() => perClass.Compute(embeddings, labels)).Should().Throw<ArgumentException>().WithParameterName("labels").WithMessage("*3*");

        using var memory = new CrossBatchMemory(new MultiSimilarityLoss(), 4, memorySize: 4);
        using var goodLabels = tensor(Labels);
        FluentActions.Invoking(() => memory.Compute(embeddings, goodLabels)).Should().Throw<ArgumentException>().WithMessage("*does not fit*");
        using var wide = Batch(3, 3, 5);
        using var threeLabels = tensor(new long[] { 0, 0, 1 });
        FluentActions.Invoking(() => memory.Compute(wide, threeLabels)).Should().Throw<ArgumentException>().WithMessage("*5 wide*");
        using var doubles = Batch(3, 3).to_type(ScalarType.Float64);
        FluentActions.Invoking(() => memory.Compute(doubles, threeLabels)).Should().Throw<ArgumentException>().WithMessage("*Float64*");
        using var small = Batch(3, 3);
        using var mined = new PairMarginMiner().Mine(small, threeLabels);
        FluentActions.Invoking(() => memory.Compute(small, threeLabels, mined)).Should().Throw<ArgumentException>().WithParameterName("mined");
        memory.Position.Should().Be(0, "a refused batch does not enter the queue");

        using var withMiners = new MultipleLosses(new IBatchLoss[] { new MultiSimilarityLoss() }, miners: new IMiner?[] { new MultiSimilarityMiner() });
        FluentActions.Invoking(() => withMiners.Compute(small, threeLabels, mined)).Should().Throw<ArgumentException>().WithParameterName("mined");
    }

    /// <summary>A batch of one class: no triplets, no negatives; the losses give 0, still connected to the embeddings, and no NaN.</summary>
    [Theory]
    [MemberData(nameof(Losses))]
    public void A_batch_with_nothing_to_learn_gives_zero_connected_to_the_graph(string name)
    {
        var loss = name == "memory" ? new CrossBatchMemory(new MarginContrastiveLoss(positiveMargin: 4, negativeMargin: 0), 4) : Create(name);
        using var embeddings = Batch(4).requires_grad_(true);
        using var labels = zeros(6, dtype: ScalarType.Int64);
        using var value = loss.Compute(embeddings, labels);
        value.item<float>().Should().BeApproximately(0, 1e-6f, "FastAP of an anchor without negatives is 1 up to rounding");
        value.requires_grad.Should().BeTrue();
        value.backward();
        embeddings.grad.Should().NotBeNull();
        embeddings.grad!.isfinite().all().item<bool>().Should().BeTrue();
        (loss as IDisposable)?.Dispose();
    }

    [Fact]
    public void A_learnt_beta_is_a_weight_of_the_loss_and_trains()
    {
        using var fixedBeta = new MarginLoss();
        fixedBeta.LearntBeta.Should().BeNull();
        fixedBeta.ParameterGroups.Should().BeEmpty();

        using var loss = new MarginLoss(nu: 0.1, learnBeta: true, classes: 3, learningRateScale: 10);
        var group = loss.ParameterGroups.Should().ContainSingle().Subject;
        group.LearningRateScale.Should().Be(10);
        group.Parameters.Should().ContainSingle().Which.Should().BeSameAs(loss.LearntBeta);
        loss.LearntBeta!.shape.Should().Equal(3);

        using var embeddings = Batch(5);
        using var labels = tensor(Labels);
        using var before = loss.LearntBeta.detach().clone();
        float first = 0, last = 0;
        for (int step = 0; step < 20; step++)
        {
            loss.LearntBeta.grad?.zero_();
            using var value = loss.Compute(embeddings, labels);
            if (step == 0)
                first = value.item<float>();
            last = value.item<float>();
            value.backward();
            using (no_grad())
                loss.LearntBeta.sub_(loss.LearntBeta.grad! * 0.05);
        }

        loss.LearntBeta.allclose(before).Should().BeFalse("beta is trained");
        last.Should().BeLessThan(first);
    }

    [Fact]
    public void Multiple_losses_are_the_weighted_sum_and_gather_their_losses_weights()
    {
        using var embeddings = Batch(6);
        using var labels = tensor(Labels);
        var margin = new MarginLoss(nu: 0.1, learnBeta: true);
        var proxies = new ProxyAnchorLoss(3, 4);
        var fastAp = new FastApLoss();
        var sum = new MultipleLosses(new IBatchLoss[] { margin, fastAp, proxies }, new[] { 0.5, 2, 0.25 });

        using var value = sum.Compute(embeddings, labels);
        using var a = margin.Compute(embeddings, labels);
        using var b = fastAp.Compute(embeddings, labels);
        using var c = proxies.Compute(embeddings, labels);
        value.item<float>().Should().BeApproximately(0.5f * a.item<float>() + 2 * b.item<float>() + 0.25f * c.item<float>(), 1e-5f);

        sum.ParameterGroups.Select(g => g.Name).Should().Equal("margin loss beta", "Proxy-Anchor proxies");
        sum.ParameterGroups.SelectMany(g => g.Parameters).Should().Equal(margin.LearntBeta!, proxies.Proxies);

        sum.Dispose();
        margin.LearntBeta!.IsInvalid.Should().BeTrue("disposing the sum disposes its losses");
        proxies.Proxies.IsInvalid.Should().BeTrue();
    }

    [Fact]
    public void The_memory_keeps_a_detached_queue_and_exposes_its_state()
    {
        using var memory = new CrossBatchMemory(new MultiSimilarityLoss(), 4, memorySize: 10);
        memory.Position.Should().Be(0);
        memory.IsFull.Should().BeFalse();
        using var labels = tensor(Labels);
        using var first = Batch(7).requires_grad_(true);
        using (memory.Compute(first, labels))
        {
        }

        memory.Position.Should().Be(6);
        memory.IsFull.Should().BeFalse();
        memory.MemoryEmbeddings.requires_grad.Should().BeFalse();
        memory.MemoryEmbeddings.narrow(0, 0, 6).allclose(first.detach()).Should().BeTrue();
        memory.MemoryLabels.narrow(0, 0, 6).eq(labels).all().item<bool>().Should().BeTrue();

        using var second = Batch(8);
        using (memory.Compute(second, labels))
        {
        }

        memory.Position.Should().Be(2, "the queue wraps round");
        memory.IsFull.Should().BeTrue();
        memory.MemoryEmbeddings.narrow(0, 0, 2).allclose(second.narrow(0, 4, 2)).Should().BeTrue("the oldest rows are replaced");

        // The state restores into another memory, which then gives the same loss.
        using var copy = new CrossBatchMemory(new MultiSimilarityLoss(), 4, memorySize: 10);
        copy.Restore(memory.MemoryEmbeddings, memory.MemoryLabels, memory.Position, memory.IsFull);
        using var third = Batch(9);
        using var expected = memory.Compute(third, labels);
        using var actual = copy.Compute(third, labels);
        actual.item<float>().Should().Be(expected.item<float>(), "the memory is deterministic");
        copy.Position.Should().Be(memory.Position);

        memory.Reset();
        memory.Position.Should().Be(0);
        memory.IsFull.Should().BeFalse();
        FluentActions.Invoking(() => copy.Restore(memory.MemoryEmbeddings, memory.MemoryLabels, 10, false)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("position");
    }
}
