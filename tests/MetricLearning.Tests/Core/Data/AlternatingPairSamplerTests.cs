using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using MetricLearning.Data;
using Xunit;

namespace MetricLearning.Tests.Core.Data;

public sealed class AlternatingPairSamplerTests
{
    // Images per digit 0-9 in MNIST's training and test splits.
    private static readonly int[] TrainCounts = { 5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949 };
    private static readonly int[] TestCounts = { 980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009 };

    /// <summary>Labels with the given count per class, interleaved so that dataset order differs from class order.</summary>
    private static int[] Labels(int[] counts, int seed)
    {
        var labels = counts.SelectMany((count, digit) => Enumerable.Repeat(digit, count)).ToArray();
        new Random(seed).Shuffle(labels);
        return labels;
    }

    [Theory]
    [InlineData(true, 108_400)]
    [InlineData(false, 17_820)]
    public void Mnist_class_counts_give_the_reference_pair_counts(bool training, int expected)
    {
        var counts = training ? TrainCounts : TestCounts;
        int n = counts.Min() - 1;

        var pairs = new AlternatingPairSampler(7).Sample(Labels(counts, 1));

        pairs.Count.Should().Be(expected).And.Be(2 * 10 * n);
        pairs.SameCount.Should().Be(expected / 2);
    }

    [Fact]
    public void Pairs_alternate_same_then_different_walking_each_class_in_dataset_order()
    {
        var labels = Labels(TestCounts, 2);
        var byClass = Enumerable.Range(0, 10)
            .Select(d => Enumerable.Range(0, labels.Length).Where(i => labels[i] == d).ToArray())
            .ToArray();
        int n = TestCounts.Min() - 1;

        var pairs = new AlternatingPairSampler(11).Sample(labels);

        for (int d = 0; d < 10; d++)
        {
            for (int i = 0; i < n; i++)
            {
                int p = 2 * (d * n + i);
                pairs.IsSame[p].Should().BeTrue();
                pairs.First[p].Should().Be(byClass[d][i]);
                pairs.Second[p].Should().Be(byClass[d][i + 1]);

                pairs.IsSame[p + 1].Should().BeFalse();
                pairs.First[p + 1].Should().Be(byClass[d][i]);
                int other = labels[pairs.Second[p + 1]];
                other.Should().NotBe(d);
                pairs.Second[p + 1].Should().Be(byClass[other][i], "the negative partner is the same position in another class");
            }
        }
    }

    [Fact]
    public void Every_other_class_is_drawn_as_a_negative_partner_about_equally_often()
    {
        var labels = Labels(TrainCounts, 3);

        var pairs = new AlternatingPairSampler(5).Sample(labels);

        var offsets = new int[10];
        for (int p = 1; p < pairs.Count; p += 2)
            offsets[(labels[pairs.Second[p]] - labels[pairs.First[p]] + 10) % 10]++;
        offsets[0].Should().Be(0);
        int expectedEach = pairs.Count / 2 / 9; // about 6,022
        offsets.Skip(1).Should().OnlyContain(count => Math.Abs(count - expectedEach) < expectedEach / 10);
    }

    [Fact]
    public void The_same_seed_gives_the_same_pairs_and_another_seed_other_negatives()
    {
        var labels = Labels(TestCounts, 4);

        var first = new AlternatingPairSampler(42).Sample(labels);
        var again = new AlternatingPairSampler(42).Sample(labels);
        var other = new AlternatingPairSampler(43).Sample(labels);

        again.Second.Should().Equal(first.Second);
        again.First.Should().Equal(first.First);
        other.First.Should().Equal(first.First, "the anchors do not depend on the seed");
        other.Second.Should().NotEqual(first.Second);
    }

    [Fact]
    public void A_single_class_is_refused()
    {
        var act = () => new AlternatingPairSampler().Sample(new[] { 3, 3, 3 });

        act.Should().Throw<ArgumentException>().WithMessage("*at least two classes*");
    }

    [Fact]
    public void A_class_with_one_sample_is_refused_and_named()
    {
        var act = () => new AlternatingPairSampler().Sample(new List<int> { 0, 0, 1, 2, 2 });

        act.Should().Throw<ArgumentException>().WithMessage("*class 1 has one*");
    }
}
