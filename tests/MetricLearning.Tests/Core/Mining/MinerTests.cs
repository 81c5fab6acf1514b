using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Mining;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Mining;

public sealed class MinerTests
{
    // Five points on a line, classes 0, 0, 0, 1, 1, compared by plain Euclidean distance |x_i − x_j|:
    //          0    1    2    3    4
    //   0      -    1    3   1.5   4
    //   1      1    -    2   0.5   3
    //   2      3    2    -   1.5   1
    //   3     1.5  0.5  1.5   -   2.5
    //   4      4    3    1   2.5   -
    private static readonly float[] Line = { 0f, 1f, 3f, 1.5f, 4f };
    private static readonly long[] LineClasses = { 0, 0, 0, 1, 1 };

    private static Tensor Column(float[] values) => tensor(values, new long[] { values.Length, 1 });

    private static long[] Values(Tensor t) => t.cpu().data<long>().ToArray();

    private static HashSet<(long, long, long)> TripletSet(MinedIndices mined)
    {
        var triplets = (MinedTriplets)mined;
        var (a, p, n) = (Values(triplets.Anchors), Values(triplets.Positives), Values(triplets.Negatives));
        return Enumerable.Range(0, a.Length).Select(k => (a[k], p[k], n[k])).ToHashSet();
    }

    private static (HashSet<(long, long)> Positive, HashSet<(long, long)> Negative) PairSets(MinedIndices mined)
    {
        var pairs = (MinedPairs)mined;
        static HashSet<(long, long)> Set(Tensor first, Tensor second)
        {
            var (f, s) = (Values(first), Values(second));
            return Enumerable.Range(0, f.Length).Select(k => (f[k], s[k])).ToHashSet();
        }

        return (Set(pairs.PositiveAnchors, pairs.Positives), Set(pairs.NegativeAnchors, pairs.Negatives));
    }

    [Fact]
    public void Batch_hard_takes_each_anchors_farthest_positive_and_closest_negative()
    {
        // From the table: anchor 0 → farthest positive 2 (3), closest negative 3 (1.5); 1 → 2 (2), 3 (0.5);
        // 2 → 0 (3), 4 (1); 3 → 4 (2.5), 1 (0.5); 4 → 3 (2.5), 2 (1). A sixth point of a class of its own (x = 10)
        // has no positive, so it anchors nothing, and it is too far to be anyone's closest negative.
        using var embeddings = Column(Line.Append(10f).ToArray());
        using var labels = tensor(LineClasses.Append(2).ToArray());

        using var mined = new BatchHardMiner(new LpDistance(2)).Mine(embeddings, labels);

        TripletSet(mined).Should().BeEquivalentTo(new[] { (0L, 2L, 3L), (1L, 2L, 3L), (2L, 0L, 4L), (3L, 4L, 1L), (4L, 3L, 2L) });
    }

    [Fact]
    public void Batch_hard_on_a_similarity_reads_larger_as_closer()
    {
        // Negated distances as a similarity must pick the same triplets.
        using var embeddings = Column(Line);
        using var labels = tensor(LineClasses);

        using var byDistance = new BatchHardMiner(new LpDistance(2)).Mine(embeddings, labels);
        using var bySimilarity = new BatchHardMiner(new NegatedLp()).Mine(embeddings, labels);

        TripletSet(bySimilarity).Should().BeEquivalentTo(TripletSet(byDistance));
    }

    [Fact]
    public void Semi_hard_takes_the_closest_negative_beyond_the_positive_within_the_margin()
    {
        // Margin 1.9: a negative n qualifies for (a, p) when d(a,p) < d(a,n) < d(a,p) + 1.9.
        // (0,1): (1, 2.9) holds 3 (1.5)            → (0, 1, 3)
        // (0,2): (3, 4.9) holds 4 (4)              → (0, 2, 4)
        // (1,0): (1, 2.9): 3 is 0.5, 4 is 3        → none
        // (1,2): (2, 3.9) holds 4 (3)              → (1, 2, 4)
        // (2,0): (3, 4.9): 3 is 1.5, 4 is 1        → none
        // (2,1): (2, 3.9): none
        // (3,4): (2.5, 4.4): 0, 1, 2 are 1.5, 0.5, 1.5 → none
        // (4,3): (2.5, 4.4) holds 1 (3) and 0 (4); the closer is 1 → (4, 3, 1)
        using var embeddings = Column(Line);
        using var labels = tensor(LineClasses);

        using var mined = new SemiHardMiner(1.9, new LpDistance(2)).Mine(embeddings, labels);

        TripletSet(mined).Should().BeEquivalentTo(new[] { (0L, 1L, 3L), (0L, 2L, 4L), (1L, 2L, 4L), (4L, 3L, 1L) });
    }

    [Fact]
    public void Semi_hard_on_a_similarity_reads_larger_as_closer()
    {
        using var embeddings = Column(Line);
        using var labels = tensor(LineClasses);

        using var mined = new SemiHardMiner(1.9, new NegatedLp()).Mine(embeddings, labels);

        TripletSet(mined).Should().BeEquivalentTo(new[] { (0L, 1L, 3L), (0L, 2L, 4L), (1L, 2L, 4L), (4L, 3L, 1L) });
    }

    [Fact]
    public void Pair_margin_keeps_far_positives_and_near_negatives_in_both_orders()
    {
        // Positive margin 1.8: same-class pairs beyond it are (0,2) 3, (1,2) 2, (3,4) 2.5; not (0,1) 1.
        // Negative margin 1.2: different-class pairs within it are (1,3) 0.5 and (2,4) 1; not (0,3), (2,3) at 1.5.
        using var embeddings = Column(Line);
        using var labels = tensor(LineClasses);

        using var mined = new PairMarginMiner(1.8, 1.2, new LpDistance(2)).Mine(embeddings, labels);

        var (positive, negative) = PairSets(mined);
        positive.Should().BeEquivalentTo(new[] { (0L, 2L), (2L, 0L), (1L, 2L), (2L, 1L), (3L, 4L), (4L, 3L) });
        negative.Should().BeEquivalentTo(new[] { (1L, 3L), (3L, 1L), (2L, 4L), (4L, 2L) });
        ((MinedPairs)mined).PositiveCount.Should().Be(6);
        ((MinedPairs)mined).NegativeCount.Should().Be(4);
    }

    [Fact]
    public void Pair_margin_on_a_similarity_turns_the_comparisons_around()
    {
        // On the negated distance s = −d, "less similar than −1.8" is "farther than 1.8": the same pairs.
        using var embeddings = Column(Line);
        using var labels = tensor(LineClasses);

        using var byDistance = new PairMarginMiner(1.8, 1.2, new LpDistance(2)).Mine(embeddings, labels);
        using var bySimilarity = new PairMarginMiner(-1.8, -1.2, new NegatedLp()).Mine(embeddings, labels);

        PairSets(bySimilarity).Should().BeEquivalentTo(PairSets(byDistance));
    }

    [Fact]
    public void Multi_similarity_mining_keeps_pairs_harder_than_the_other_kinds_hardest_plus_epsilon()
    {
        // x = 0, 0.2, 1, 2, 2.1 with classes 0, 0, 0, 1, 1; ε = 0.15, on distances:
        // keep (a,p) if d(a,p) + ε > min_n d(a,n); keep (a,n) if d(a,n) − ε < max_p d(a,p).
        // min_n: a0 2.0, a1 1.8, a2 1.0, a3 1.0, a4 1.1.   max_p: a0 1.0, a1 0.8, a2 1.0, a3 0.1, a4 0.1.
        // Positives: only (2,0): 1.0 + 0.15 > 1.0 ((2,1): 0.95 is not; (0,2): 1.15 < 2.0).
        // Negatives: (2,3): 0.85 < 1.0 and (2,4): 0.95 < 1.0; anchors 3 and 4 keep nothing (max_p 0.1).
        using var embeddings = Column(new[] { 0f, 0.2f, 1f, 2f, 2.1f });
        using var labels = tensor(LineClasses);

        using var mined = new MultiSimilarityMiner(0.15, new LpDistance(2)).Mine(embeddings, labels);
        using var onSimilarity = new MultiSimilarityMiner(0.15, new NegatedLp()).Mine(embeddings, labels);

        var (positive, negative) = PairSets(mined);
        positive.Should().BeEquivalentTo(new[] { (2L, 0L) });
        negative.Should().BeEquivalentTo(new[] { (2L, 3L), (2L, 4L) });
        PairSets(onSimilarity).Should().BeEquivalentTo(PairSets(mined));
    }

    [Fact]
    public void Miners_use_no_gradient_and_accept_embeddings_that_require_one()
    {
        using var embeddings = Column(Line).requires_grad_();
        using var labels = tensor(LineClasses);

        foreach (IMiner miner in new IMiner[] { new BatchHardMiner(), new SemiHardMiner(), new PairMarginMiner(), new MultiSimilarityMiner() })
        {
            using var mined = miner.Mine(embeddings, labels);
            var indices = mined is MinedTriplets t ? new[] { t.Anchors, t.Positives, t.Negatives }
                : new[] { ((MinedPairs)mined).PositiveAnchors, ((MinedPairs)mined).Negatives };
            indices.Should().OnlyContain(i => !i.requires_grad && i.dtype == ScalarType.Int64, miner.GetType().Name);
        }
    }

    [Fact]
    public void A_batch_of_one_class_mines_no_triplets()
    {
        using var embeddings = Column(new[] { 0f, 1f, 2f });
        using var labels = tensor(new long[] { 4, 4, 4 });

        using var hard = new BatchHardMiner().Mine(embeddings, labels);
        using var semiHard = new SemiHardMiner().Mine(embeddings, labels);

        ((MinedTriplets)hard).Count.Should().Be(0);
        ((MinedTriplets)semiHard).Count.Should().Be(0);
    }

    [Fact]
    public void Miners_refuse_bad_batches_and_settings_by_name()
    {
        using var embeddings = Column(Line);
        using var shortLabels = tensor(new long[] { 0, 1 });

        var mismatched = () => new BatchHardMiner().Mine(embeddings, shortLabels);
        var margin = () => new SemiHardMiner(margin: 0);
        var epsilon = () => new MultiSimilarityMiner(epsilon: -1);
        var nanMargin = () => new PairMarginMiner(positiveMargin: double.NaN);

        mismatched.Should().Throw<ArgumentException>().WithMessage("*2 labels for 5 embeddings*");
        margin.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("margin");
        epsilon.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("epsilon");
        nanMargin.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("positiveMargin");
    }

    [Fact]
    public void Hand_built_indices_are_checked()
    {
        using var anchors = tensor(new long[] { 0, 1 });
        using var positives = tensor(new long[] { 1, 0 });
        using var outside = tensor(new long[] { 2, 7 });
        using var floats = tensor(new[] { 2f, 3f });
        using var tooShort = tensor(new long[] { 2 });

        var outOfRange = () => new MinedTriplets(anchors, positives, outside, 4);
        var wrongType = () => new MinedTriplets(anchors, positives, floats, 4);
        var wrongLength = () => new MinedPairs(anchors, positives, anchors, tooShort, 4);

        outOfRange.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*'negatives' holds row 7, outside a batch of 4*");
        wrongType.Should().Throw<ArgumentException>().WithMessage("*'negatives' must hold int64*Float32*");
        wrongLength.Should().Throw<ArgumentException>().WithMessage("*'negatives' has 1 indices*2*");
    }
}
