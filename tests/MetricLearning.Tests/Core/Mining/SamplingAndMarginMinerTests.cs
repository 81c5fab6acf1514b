using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Mining;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Mining;

/// <summary>
/// Behaviour of TripletMarginMiner, BatchEasyHardMiner, AngularMiner, DistanceWeightedMiner and UniformHistogramMiner
/// beyond matching PML (PmlMinersReferenceTests): settings and batches refused by name, no gradient, nothing to mine,
/// use with the losses, and the random miners' seeding.
/// </summary>
public sealed class SamplingAndMarginMinerTests
{
    private static IMiner[] AllMiners() => new IMiner[]
    {
        new TripletMarginMiner(),
        new TripletMarginMiner(0.1, TripletDifficulty.SemiHard, new CosineSimilarity()),
        new BatchEasyHardMiner(),
        new BatchEasyHardMiner(BatchMiningStrategy.Hard, BatchMiningStrategy.Hard),
        new BatchEasyHardMiner(BatchMiningStrategy.All, BatchMiningStrategy.Hard),
        new BatchEasyHardMiner(BatchMiningStrategy.Easy, BatchMiningStrategy.All),
        new AngularMiner(),
        new DistanceWeightedMiner(seed: 1),
        new DistanceWeightedMiner(0.2, 1.8, seed: 1),
        new UniformHistogramMiner(bins: 5, seed: 1),
    };

    public static IEnumerable<object[]> Miners() => AllMiners().Select((m, i) => new object[] { i, Describe(m) });

    private static string Describe(IMiner miner) => miner switch
    {
        TripletMarginMiner t => $"{nameof(TripletMarginMiner)} {t.Difficulty} {t.Distance.GetType().Name}",
        BatchEasyHardMiner b => $"{nameof(BatchEasyHardMiner)} {b.PositiveStrategy}/{b.NegativeStrategy}",
        DistanceWeightedMiner d => $"{nameof(DistanceWeightedMiner)} {d.Cutoff}/{d.NonzeroLossCutoff}",
        _ => miner.GetType().Name,
    };

    /// <summary>Three classes of four samples, spread so that every miner finds something.</summary>
    private static (Tensor Embeddings, Tensor Labels) Batch(ScalarType dtype = ScalarType.Float32, int classes = 3)
    {
        var generator = new Generator(7);
        var embeddings = randn(new long[] { classes * 4, 6 }, dtype: dtype, generator: generator);
        var labels = arange(classes, dtype: ScalarType.Int64).repeat_interleave(4L);
        return (embeddings, labels);
    }

    private static long[] Values(Tensor t) => t.cpu().contiguous().data<long>().ToArray();

    private static string[] Picks(MinedIndices mined) => mined switch
    {
        MinedTriplets t => Values(t.Anchors).Select((a, i) => $"{a}-{Values(t.Positives)[i]}-{Values(t.Negatives)[i]}").ToArray(),
        MinedPairs p => Values(p.PositiveAnchors).Select((a, i) => $"+{a}-{Values(p.Positives)[i]}")
            .Concat(Values(p.NegativeAnchors).Select((a, i) => $"-{a}-{Values(p.Negatives)[i]}")).ToArray(),
        _ => throw new InvalidOperationException(),
    };

    private static long NegativeCount(MinedIndices mined) => mined is MinedTriplets t ? t.Count : ((MinedPairs)mined).NegativeCount;

    [Fact]
    public void Bad_settings_are_refused_naming_the_parameter()
    {
        var cases = new (Action Create, string Parameter)[]
        {
            (() => new TripletMarginMiner(double.NaN), "margin"),
            (() => new TripletMarginMiner(0.2, (TripletDifficulty)9), "difficulty"),
            (() => new BatchEasyHardMiner((BatchMiningStrategy)9), "positiveStrategy"),
            (() => new BatchEasyHardMiner(BatchMiningStrategy.Easy, (BatchMiningStrategy)9), "negativeStrategy"),
            (() => new BatchEasyHardMiner(BatchMiningStrategy.SemiHard, BatchMiningStrategy.SemiHard), "negativeStrategy"),
            (() => new BatchEasyHardMiner(BatchMiningStrategy.SemiHard, BatchMiningStrategy.All), "negativeStrategy"),
            (() => new BatchEasyHardMiner(BatchMiningStrategy.All, BatchMiningStrategy.SemiHard), "negativeStrategy"),
            (() => new BatchEasyHardMiner(allowedPositiveRange: (1.0, 0.5)), "allowedPositiveRange"),
            (() => new BatchEasyHardMiner(allowedNegativeRange: (double.NaN, 1.0)), "allowedNegativeRange"),
            (() => new AngularMiner(-0.1), "angle"),
            (() => new AngularMiner(2.0), "angle"),
            (() => new AngularMiner(double.NaN), "angle"),
            (() => new DistanceWeightedMiner(cutoff: 2), "cutoff"),
            (() => new DistanceWeightedMiner(cutoff: -0.1), "cutoff"),
            (() => new DistanceWeightedMiner(cutoff: 0.5, nonzeroLossCutoff: 0.5), "nonzeroLossCutoff"),
            (() => new DistanceWeightedMiner(nonzeroLossCutoff: double.PositiveInfinity), "nonzeroLossCutoff"),
            (() => new UniformHistogramMiner(bins: 0), "bins"),
            (() => new UniformHistogramMiner(positivesPerBin: 0), "positivesPerBin"),
            (() => new UniformHistogramMiner(negativesPerBin: -1), "negativesPerBin"),
        };
        foreach (var (create, parameter) in cases)
            create.Should().Throw<ArgumentOutOfRangeException>().WithParameterName(parameter);
    }

    [Theory]
    [MemberData(nameof(Miners))]
    public void Bad_batches_are_refused(int index, string description)
    {
        var miner = AllMiners()[index];
        using var embeddings = rand(5, 3);
        using var shortLabels = tensor(new long[] { 0, 1 });
        using var floatLabels = rand(5);
        using var flat = rand(5);
        using var labels = tensor(new long[] { 0, 0, 1, 1, 2 });
        using var one = rand(1, 3);
        using var oneLabel = tensor(new long[] { 0 });

        miner.Invoking(m => m.Mine(embeddings, shortLabels)).Should().Throw<ArgumentException>(description).WithMessage("*2 labels for 5 embeddings*");
        miner.Invoking(m => m.Mine(embeddings, floatLabels)).Should().Throw<ArgumentException>(description).WithParameterName("labels");
        miner.Invoking(m => m.Mine(flat, labels)).Should().Throw<ArgumentException>(description).WithParameterName("embeddings");
        miner.Invoking(m => m.Mine(one, oneLabel)).Should().Throw<ArgumentException>(description).WithParameterName("embeddings");
    }

    [Theory]
    [MemberData(nameof(Miners))]
    public void A_one_class_batch_mines_no_negatives(int index, string description)
    {
        var (embeddings, _) = Batch();
        using var __ = embeddings;
        using var labels = zeros(embeddings.shape[0], dtype: ScalarType.Int64);

        using var mined = AllMiners()[index].Mine(embeddings, labels);

        NegativeCount(mined).Should().Be(0, description);
    }

    [Theory]
    [MemberData(nameof(Miners))]
    public void A_batch_of_single_samples_mines_no_positives(int index, string description)
    {
        using var embeddings = randn(5, 4);
        using var labels = arange(5, dtype: ScalarType.Int64);

        using var mined = AllMiners()[index].Mine(embeddings, labels);

        (mined is MinedTriplets t ? t.Count : ((MinedPairs)mined).PositiveCount).Should().Be(0, description);
    }

    [Theory]
    [MemberData(nameof(Miners))]
    public void Mining_uses_no_gradient_and_gives_int64_indices(int index, string description)
    {
        var (embeddings, labels) = Batch();
        using var _ = labels;
        using var x = embeddings.requires_grad_();

        using var mined = AllMiners()[index].Mine(x, labels);

        var indices = mined is MinedTriplets t ? new[] { t.Anchors, t.Positives, t.Negatives }
            : new[] { ((MinedPairs)mined).PositiveAnchors, ((MinedPairs)mined).Positives, ((MinedPairs)mined).NegativeAnchors, ((MinedPairs)mined).Negatives };
        indices.Should().OnlyContain(i => !i.requires_grad && i.dtype == ScalarType.Int64, description);
        Picks(mined).Should().NotBeEmpty(description);
        x.grad.Should().BeNull(description);
    }

    [Theory]
    [MemberData(nameof(Miners))]
    public void Mined_indices_train_the_triplet_and_multi_similarity_losses(int index, string description)
    {
        var (embeddings, labels) = Batch(ScalarType.Float64);
        using var _ = labels;
        using var x = embeddings.requires_grad_();
        using var mined = AllMiners()[index].Mine(x, labels);

        foreach (IBatchLoss loss in new IBatchLoss[] { new TripletMarginLoss(0.2, new LpDistance(2, normalize: true)), new MultiSimilarityLoss() })
        {
            x.grad?.zero_();
            using var value = loss.Compute(x, labels, mined);
            double v = value.item<double>();
            double.IsFinite(v).Should().BeTrue($"{description} with {loss.GetType().Name}");
            value.backward();
            x.grad!.isfinite().all().item<bool>().Should().BeTrue($"{description} with {loss.GetType().Name}: the gradient");
        }
    }

    [Fact]
    public void Triplet_margin_difficulties_split_the_violating_triplets()
    {
        // Hard and semi-hard are disjoint and make up "all"; "easy" is the rest of the batch's triplets.
        var (embeddings, labels) = Batch();
        using var _ = embeddings;
        using var __ = labels;
        string[] Mine(TripletDifficulty difficulty, double margin = 0.3)
        {
            using var mined = new TripletMarginMiner(margin, difficulty).Mine(embeddings, labels);
            return Picks(mined);
        }

        var all = Mine(TripletDifficulty.All);
        var hard = Mine(TripletDifficulty.Hard);
        var semiHard = Mine(TripletDifficulty.SemiHard);
        var easy = Mine(TripletDifficulty.Easy);
        hard.Intersect(semiHard).Should().BeEmpty();
        hard.Concat(semiHard).Should().BeEquivalentTo(all);
        all.Intersect(easy).Should().BeEmpty();
        (all.Length + easy.Length).Should().Be(12 * 3 * 8);
        hard.Should().NotBeEmpty();
        semiHard.Should().NotBeEmpty();
    }

    [Fact]
    public void Batch_easy_hard_picks_one_positive_and_one_negative_per_anchor()
    {
        var (embeddings, labels) = Batch();
        using var _ = embeddings;
        using var __ = labels;

        using var mined = (MinedPairs)new BatchEasyHardMiner(BatchMiningStrategy.Hard, BatchMiningStrategy.Hard).Mine(embeddings, labels);
        using var hard = (MinedTriplets)new BatchHardMiner().Mine(embeddings, labels);

        Values(mined.PositiveAnchors).Should().Equal(Enumerable.Range(0, 12).Select(i => (long)i));
        Values(mined.NegativeAnchors).Should().Equal(Values(mined.PositiveAnchors));
        // Hard/hard is batch-hard mining.
        Values(mined.Positives).Should().Equal(Values(hard.Positives));
        Values(mined.Negatives).Should().Equal(Values(hard.Negatives));
    }

    [Fact]
    public void The_random_miners_draw_per_seed_and_epoch_and_leave_the_global_generator_alone()
    {
        var (embeddings, labels) = Batch();
        using var _ = embeddings;
        using var __ = labels;
        foreach (var create in new Func<long, IMiner>[] { seed => new DistanceWeightedMiner(seed: seed), seed => new UniformHistogramMiner(bins: 5, seed: seed) })
        {
            string[] Draw(IMiner miner)
            {
                using var mined = miner.Mine(embeddings, labels);
                return Picks(mined);
            }

            // An uninterrupted run through epochs 1 to 3, and a run resumed at epoch 3.
            var run = create(11);
            var epochs = new List<string[]>();
            for (int epoch = 1; epoch <= 3; epoch++)
            {
                ((IEpochAware)run).BeginEpoch(epoch);
                epochs.Add(Draw(run));
                Draw(run);
            }

            var resumed = create(11);
            ((IEpochAware)resumed).BeginEpoch(3);
            string name = run.GetType().Name;
            Draw(resumed).Should().Equal(epochs[2], $"{name}: a resumed run draws as the uninterrupted one");
            epochs[0].Should().NotEqual(epochs[1], $"{name}: each epoch draws afresh");
            var otherSeed = create(12);
            ((IEpochAware)otherSeed).BeginEpoch(1);
            Draw(otherSeed).Should().NotEqual(epochs[0], $"{name}: another seed draws otherwise");

            // The global generator is neither used nor moved.
            manual_seed(99);
            using var expected = rand(4);
            manual_seed(99);
            Draw(run);
            using var after = rand(4);
            after.eq(expected).all().item<bool>().Should().BeTrue($"{name} leaves the global generator alone");
        }
    }

    [Fact]
    public void Distance_weighted_sampling_weights_are_a_distribution_over_drawable_negatives()
    {
        var (embeddings, labels) = Batch(ScalarType.Float32);
        using var _ = embeddings;
        using var __ = labels;
        var miner = new DistanceWeightedMiner(0.5, 1.4);

        using var weights = miner.SamplingWeights(embeddings, labels);
        using var distances = new LpDistance(2, normalize: true).ComputeMatrix(embeddings, embeddings);
        var w = weights.data<float>().ToArray();
        var d = distances.data<float>().ToArray();
        var y = Values(labels);
        for (int a = 0; a < 12; a++)
        {
            double total = 0;
            for (int n = 0; n < 12; n++)
            {
                total += w[a * 12 + n];
                if (y[a] == y[n] || d[a * 12 + n] >= 1.4f)
                    w[a * 12 + n].Should().Be(0, $"anchor {a}, sample {n} is not a drawable negative");
            }

            if (total > 0)
                total.Should().BeApproximately(1, 1e-5);
        }
    }

    [Fact]
    public void Uniform_histogram_draws_the_given_number_per_non_empty_bin()
    {
        var (embeddings, labels) = Batch();
        using var _ = embeddings;
        using var __ = labels;
        var miner = new UniformHistogramMiner(bins: 4, positivesPerBin: 3, negativesPerBin: 5, seed: 2);

        var (positive, negative) = miner.Candidates(embeddings, labels);
        long positiveBins = Values(positive.Bins).Distinct().Count();
        long negativeBins = Values(negative.Bins).Distinct().Count();
        using var mined = (MinedPairs)miner.Mine(embeddings, labels);

        mined.PositiveCount.Should().Be(3 * positiveBins);
        mined.NegativeCount.Should().Be(5 * negativeBins);
        Values(positive.Bins).Should().OnlyContain(b => b >= 0 && b < 4).And.Contain(0).And.Contain(3);
        foreach (var t in new[] { positive.Anchors, positive.Others, positive.Bins, negative.Anchors, negative.Others, negative.Bins })
            t.Dispose();
    }
}
