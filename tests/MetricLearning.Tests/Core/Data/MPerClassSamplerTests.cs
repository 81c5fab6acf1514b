using System;
using System.Linq;
using FluentAssertions;
using MetricLearning.Data;
using Xunit;

namespace MetricLearning.Tests.Core.Data;

public sealed class MPerClassSamplerTests
{
    // 10 classes of 50 samples, interleaved.
    private static readonly int[] Labels = Enumerable.Range(0, 500).Select(i => i % 10).ToArray();

    [Fact]
    public void Every_batch_holds_m_distinct_samples_of_each_of_its_classes()
    {
        var batches = new MPerClassSampler(samplesPerClass: 4, batchSize: 20, seed: 1).Batches(Labels, epoch: 0);

        batches.Should().HaveCount(500 / 20);
        foreach (var batch in batches)
        {
            batch.Should().HaveCount(20).And.OnlyHaveUniqueItems();
            var counts = batch.GroupBy(i => Labels[i]).Select(g => g.Count()).ToArray();
            counts.Should().HaveCount(5).And.OnlyContain(c => c == 4);
        }
    }

    [Fact]
    public void An_epoch_uses_every_sample_of_a_class_before_repeating_one()
    {
        // 25 batches x 5 classes x 4 = 500 draws, 50 per class on average; per class, the first 50 draws are distinct.
        var batches = new MPerClassSampler(4, 20, seed: 2).Batches(Labels, epoch: 0);

        foreach (var group in batches.SelectMany(b => b).GroupBy(i => Labels[i]))
            group.Take(50).Should().OnlyHaveUniqueItems($"class {group.Key}");
    }

    [Fact]
    public void Epochs_differ_and_seeds_reproduce()
    {
        var sampler = new MPerClassSampler(4, 20, seed: 3);

        var first = sampler.Batches(Labels, 0).SelectMany(b => b).ToArray();
        var again = new MPerClassSampler(4, 20, seed: 3).Batches(Labels, 0).SelectMany(b => b).ToArray();
        var next = sampler.Batches(Labels, 1).SelectMany(b => b).ToArray();

        again.Should().Equal(first);
        next.Should().NotEqual(first);
    }

    [Fact]
    public void Batches_that_need_more_classes_than_exist_are_refused()
    {
        var act = () => new MPerClassSampler(2, 40).Batches(Labels, 0);

        act.Should().Throw<ArgumentException>().WithMessage("*needs 20 classes*hold 10*");
    }

    [Theory]
    [InlineData(1, 10)]
    [InlineData(4, 6)]
    [InlineData(4, 4)]
    public void Settings_out_of_range_are_refused(int m, int batchSize)
    {
        var act = () => new MPerClassSampler(m, batchSize);

        act.Should().Throw<ArgumentOutOfRangeException>();
    }
}
