using System;
using System.Linq;
using FluentAssertions;
using MetricLearning.Data;
using Xunit;

namespace MetricLearning.Tests.Core.Data;

public sealed class RandomPairSamplerTests
{
    private static readonly int[] Labels = Enumerable.Range(0, 300).Select(i => i % 3 == 0 ? 0 : i % 3 == 1 ? 1 : 2).ToArray();

    [Fact]
    public void Pairs_alternate_same_and_different_with_correct_labels()
    {
        var pairs = new RandomPairSampler(1000, seed: 4).Sample(Labels);

        pairs.Count.Should().Be(1000);
        pairs.SameCount.Should().Be(500);
        for (int p = 0; p < pairs.Count; p++)
        {
            pairs.IsSame[p].Should().Be(p % 2 == 0);
            (Labels[pairs.First[p]] == Labels[pairs.Second[p]]).Should().Be(pairs.IsSame[p], $"pair {p}");
            pairs.First[p].Should().NotBe(pairs.Second[p]);
        }
    }

    [Fact]
    public void Anchors_cover_the_samples_roughly_uniformly()
    {
        var pairs = new RandomPairSampler(30_000, seed: 5).Sample(Labels);

        var counts = pairs.First.GroupBy(i => i).Select(g => g.Count()).ToArray();
        counts.Should().HaveCount(300);
        counts.Should().OnlyContain(c => c > 50 && c < 150, "each of 300 samples is an anchor about 100 times");
    }

    [Fact]
    public void The_same_seed_gives_the_same_pairs()
    {
        var a = new RandomPairSampler(100, seed: 6).Sample(Labels);
        var b = new RandomPairSampler(100, seed: 6).Sample(Labels);
        var c = new RandomPairSampler(100, seed: 7).Sample(Labels);

        b.First.Should().Equal(a.First);
        b.Second.Should().Equal(a.Second);
        c.First.Should().NotEqual(a.First);
    }

    [Fact]
    public void Labels_without_a_class_of_two_are_refused()
    {
        var act = () => new RandomPairSampler(10).Sample(new[] { 0, 1, 2 });

        act.Should().Throw<ArgumentException>().WithMessage("*at least two samples*");
    }
}
