using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Mining;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Mining;

/// <summary>
/// The miners TripletMarginMiner, BatchEasyHardMiner, AngularMiner, DistanceWeightedMiner and UniformHistogramMiner
/// against pytorch-metric-learning 2.8.1's own code (Fixtures/pml-2.8.1-miners.json, from
/// tests/pml-reference/generate_miners.py), in float64, on the four input sets (general, a class with one sample, one
/// class, tied distances). Triplet-margin and angular mining: the same triplets, as sets. Batch easy/hard mining: for a
/// side picked one per anchor, the same anchors with the same picked distances (among tied distances either pick is
/// right); for a side that takes every pair, the same pairs. The random miners are compared by what they draw from:
/// distance-weighted sampling by its sampling weights (within 1e-5 relative) and the anchors of its triplets; uniform
/// histograms by the candidates of every non-empty bin.
/// </summary>
public sealed class PmlMinersReferenceTests
{
    private static readonly JsonElement Fixture = PmlFixture.Load("pml-2.8.1-miners.json");

    public static IEnumerable<object[]> MinerCases() => PmlFixture.Cases(Fixture, "miners");

    public static IEnumerable<object[]> DistanceWeightedCases() => PmlFixture.Cases(Fixture, "distance_weighted");

    public static IEnumerable<object[]> UniformHistogramCases() => PmlFixture.Cases(Fixture, "uniform_histogram");

    private static IDistance DistanceOf(JsonElement settings) =>
        settings.TryGetProperty("distance", out var d) && d.GetString() == "CosineSimilarity" ? new CosineSimilarity() : new LpDistance(2, normalize: true);

    private static (double, double)? Range(JsonElement settings, string name) =>
        settings.TryGetProperty(name, out var r) ? (r[0].GetDouble(), r[1].GetDouble()) : null;

    private static BatchMiningStrategy Strategy(JsonElement settings, string name, BatchMiningStrategy fallback) =>
        settings.TryGetProperty(name, out var s) ? Enum.Parse<BatchMiningStrategy>(s.GetString()!) : fallback;

    private static IMiner Miner(string name, JsonElement settings) => name switch
    {
        "TripletMarginMiner" => new TripletMarginMiner(PmlFixture.Number(settings, "margin"),
            Enum.Parse<TripletDifficulty>(settings.GetProperty("difficulty").GetString()!), DistanceOf(settings)),
        // PML's defaults when the entry names no strategy.
        "BatchEasyHardMiner" => new BatchEasyHardMiner(
            Strategy(settings, "positiveStrategy", BatchMiningStrategy.Easy), Strategy(settings, "negativeStrategy", BatchMiningStrategy.SemiHard),
            Range(settings, "allowedPositiveRange"), Range(settings, "allowedNegativeRange"), DistanceOf(settings)),
        // PML's angle is in degrees, ours in radians.
        "AngularMiner" => new AngularMiner(PmlFixture.Number(settings, "angleDegrees") * Math.PI / 180),
        _ => throw new InvalidOperationException($"No miner {name} in this test."),
    };

    private static long[] Values(Tensor t) => t.cpu().contiguous().data<long>().ToArray();

    private static long[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt64()).ToArray();

    private static string[] Sorted(IEnumerable<string> items) => items.OrderBy(s => s, StringComparer.Ordinal).ToArray();

    private static (Tensor Embeddings, Tensor Labels) Input(JsonElement entry) => PmlFixture.Input(Fixture, entry);

    [Fact]
    public void The_fixture_covers_every_new_miner_on_every_input_set()
    {
        var deterministic = Fixture.GetProperty("miners").EnumerateArray().Select(e => $"{e.GetProperty("name").GetString()} {e.GetProperty("input").GetString()}").ToHashSet();
        foreach (var name in new[] { "TripletMarginMiner", "BatchEasyHardMiner", "AngularMiner" })
            foreach (var input in new[] { "general", "singleton", "one-class", "ties" })
                deterministic.Should().Contain($"{name} {input}");
        Fixture.GetProperty("distance_weighted").GetArrayLength().Should().Be(8);
        Fixture.GetProperty("uniform_histogram").GetArrayLength().Should().Be(12);
    }

    [Theory]
    [MemberData(nameof(MinerCases))]
    public void A_miner_picks_what_PMLs_picks(int index, string description)
    {
        var entry = Fixture.GetProperty("miners")[index];
        var settings = entry.GetProperty("settings");
        string name = entry.GetProperty("name").GetString()!;
        var (embeddings, labels) = Input(entry);
        using var _ = embeddings;
        using var __ = labels;
        using var mined = Miner(name, settings).Mine(embeddings, labels);

        if (mined is MinedTriplets triplets)
        {
            static string[] Set(long[] a, long[] p, long[] n) => Sorted(a.Select((x, i) => $"{x}-{p[i]}-{n[i]}"));
            Set(Values(triplets.Anchors), Values(triplets.Positives), Values(triplets.Negatives)).Should().Equal(
                Set(Ints(entry.GetProperty("anchors")), Ints(entry.GetProperty("positives")), Ints(entry.GetProperty("negatives"))),
                $"{description}: the triplets");
            return;
        }

        // Batch easy/hard: a side picked per anchor is compared by the picked distance (ties), a side of all pairs exactly.
        var pairs = mined.Should().BeOfType<MinedPairs>().Subject;
        using var matrix = DistanceOf(settings).ComputeMatrix(embeddings, embeddings);
        var d = matrix.contiguous().data<double>().ToArray();
        long size = embeddings.shape[0];
        bool Every(string side) => settings.TryGetProperty(side, out var s) && s.GetString() == "All";
        string[] Compare(long[] anchors, long[] others, bool every) => Sorted(anchors.Select((a, i) => every ? $"{a}-{others[i]}" : $"{a}: {d[a * size + others[i]]:F12}"));
        Compare(Values(pairs.PositiveAnchors), Values(pairs.Positives), Every("positiveStrategy")).Should().Equal(
            Compare(Ints(entry.GetProperty("positive_anchors")), Ints(entry.GetProperty("positives")), Every("positiveStrategy")),
            $"{description}: the positive pairs");
        Compare(Values(pairs.NegativeAnchors), Values(pairs.Negatives), Every("negativeStrategy")).Should().Equal(
            Compare(Ints(entry.GetProperty("negative_anchors")), Ints(entry.GetProperty("negatives")), Every("negativeStrategy")),
            $"{description}: the negative pairs");
    }

    [Theory]
    [MemberData(nameof(DistanceWeightedCases))]
    public void Distance_weighted_sampling_draws_with_PMLs_weights_and_anchors(int index, string description)
    {
        var entry = Fixture.GetProperty("distance_weighted")[index];
        var settings = entry.GetProperty("settings");
        var (embeddings, labels) = Input(entry);
        using var _ = embeddings;
        using var __ = labels;
        var miner = new DistanceWeightedMiner(PmlFixture.Number(settings, "cutoff"), PmlFixture.Number(settings, "nonzeroLossCutoff"), seed: 3);

        using var weights = miner.SamplingWeights(embeddings, labels);
        PmlFixture.ShouldMatch(weights, entry.GetProperty("weights"), $"{description}: the sampling weights");

        // Each anchor gives as many triplets as its class has samples, whatever is drawn; every draw is a candidate.
        using var mined = (MinedTriplets)miner.Mine(embeddings, labels);
        var anchors = Values(mined.Anchors);
        anchors.OrderBy(a => a).Should().Equal(Ints(entry.GetProperty("anchors")), $"{description}: the anchors");
        var classes = Values(labels);
        var expected = PmlFixture.Flat(entry.GetProperty("weights"));
        var (positives, negatives) = (Values(mined.Positives), Values(mined.Negatives));
        long size = embeddings.shape[0];
        for (int k = 0; k < anchors.Length; k++)
        {
            positives[k].Should().NotBe(anchors[k], description);
            classes[positives[k]].Should().Be(classes[anchors[k]], description);
            expected[anchors[k] * size + negatives[k]].Should().BeGreaterThan(0, $"{description}: triplet {k} draws a negative PML could draw");
        }
    }

    [Theory]
    [MemberData(nameof(UniformHistogramCases))]
    public void A_uniform_histogram_bins_the_pairs_as_PMLs_does(int index, string description)
    {
        var entry = Fixture.GetProperty("uniform_histogram")[index];
        var settings = entry.GetProperty("settings");
        var (embeddings, labels) = Input(entry);
        using var _ = embeddings;
        using var __ = labels;
        int positivesPerBin = (int)PmlFixture.Number(settings, "positivesPerBin");
        int negativesPerBin = (int)PmlFixture.Number(settings, "negativesPerBin");
        var miner = new UniformHistogramMiner((int)PmlFixture.Number(settings, "bins"), positivesPerBin, negativesPerBin, DistanceOf(settings), seed: 5);

        var (positive, negative) = miner.Candidates(embeddings, labels);
        using var a1 = positive.Anchors;
        using var p = positive.Others;
        using var b1 = positive.Bins;
        using var a2 = negative.Anchors;
        using var n = negative.Others;
        using var b2 = negative.Bins;

        static string[][] Ours(long[] anchors, long[] others, long[] bins) => anchors
            .Select((a, i) => (Bin: bins[i], Pair: $"{a}-{others[i]}"))
            .GroupBy(x => x.Bin).OrderBy(g => g.Key).Select(g => Sorted(g.Select(x => x.Pair))).ToArray();
        static string[][] Pml(JsonElement bins) => bins.EnumerateArray()
            .Select(bin => Sorted(bin.EnumerateArray().Select(pair => $"{pair[0].GetInt64()}-{pair[1].GetInt64()}"))).ToArray();
        var positiveBins = Ours(Values(a1), Values(p), Values(b1));
        var negativeBins = Ours(Values(a2), Values(n), Values(b2));
        positiveBins.Should().BeEquivalentTo(Pml(entry.GetProperty("positive_bins")), o => o.WithStrictOrdering(), $"{description}: the positive bins");
        negativeBins.Should().BeEquivalentTo(Pml(entry.GetProperty("negative_bins")), o => o.WithStrictOrdering(), $"{description}: the negative bins");

        // A draw takes the given number from every non-empty bin, as PML's does, and only candidates.
        using var mined = (MinedPairs)miner.Mine(embeddings, labels);
        mined.PositiveCount.Should().Be(entry.GetProperty("positive_count").GetInt64(), description);
        mined.NegativeCount.Should().Be(entry.GetProperty("negative_count").GetInt64(), description);
        var positivePairs = positiveBins.SelectMany(b => b).ToHashSet();
        var negativePairs = negativeBins.SelectMany(b => b).ToHashSet();
        Values(mined.PositiveAnchors).Zip(Values(mined.Positives), (a, o) => $"{a}-{o}").Where(pair => !positivePairs.Contains(pair)).Should().BeEmpty(description);
        Values(mined.NegativeAnchors).Zip(Values(mined.Negatives), (a, o) => $"{a}-{o}").Where(pair => !negativePairs.Contains(pair)).Should().BeEmpty(description);
    }
}
