using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Mining;
using MetricLearning.Reducers;
using MetricLearning.Regularizers;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Losses;

/// <summary>
/// The library's losses and miners against pytorch-metric-learning 2.8.1's own code: the expected values in
/// Fixtures/pml-2.8.1.json were computed by PML (tests/pml-reference/generate.py, with Debian's python3-torch), in
/// float64, on four input sets (a general batch, a class with one sample, a batch of one class, tied distances).
/// PML is not needed here. Losses: value and gradient with respect to the embeddings, within 1e-5 relative. Miners:
/// the same pairs (as sets; PML's order is its own), or for batch-hard, whose choice among tied distances is arbitrary,
/// the same mined distances per anchor.
/// </summary>
public sealed class PmlReferenceTests
{
    private static readonly JsonElement Fixture = PmlFixture.Load("pml-2.8.1.json");

    public static IEnumerable<object[]> LossCases() => PmlFixture.Cases(Fixture, "losses");

    public static IEnumerable<object[]> WeightedLossCases() => PmlFixture.Cases(Fixture, "weighted_losses");

    public static IEnumerable<object[]> RegularizerCases() => PmlFixture.Cases(Fixture, "regularizers");

    public static IEnumerable<object[]> MinerCases() => PmlFixture.Cases(Fixture, "miners");

    private static (Tensor Embeddings, Tensor Labels) Input(string name) => PmlFixture.Input(Fixture.GetProperty("inputs").GetProperty(name));

    private static double Setting(JsonElement settings, string name) => settings.GetProperty(name).GetDouble();

    private static void ShouldBeClose(double actual, double expected, string what) => PmlFixture.ShouldBeClose(actual, expected, what);

    private static IBatchLoss Loss(string name, JsonElement settings) => name switch
    {
        "MultiSimilarityLoss" => new MultiSimilarityLoss(Setting(settings, "alpha"), Setting(settings, "beta"), Setting(settings, "lambda"), reducer: Reducer(settings)),
        // PML's default distance for the triplet loss: Euclidean on L2-normalised embeddings.
        "TripletMarginLoss" => new TripletMarginLoss(Setting(settings, "margin"), new LpDistance(2, normalize: true), Reducer(settings))
        {
            EmbeddingRegularizer = Regularizer(settings, "embeddingRegularizer"),
            EmbeddingRegularizerWeight = PmlFixture.Number(settings, "embeddingRegularizerWeight", 1),
        },
        "SupConLoss" => new SupConLoss(Setting(settings, "temperature"), reducer: Reducer(settings)),
        "MarginContrastiveLoss" => new MarginContrastiveLoss(Setting(settings, "positiveMargin"), Setting(settings, "negativeMargin"),
            settings.TryGetProperty("distance", out var d) && d.GetString() == "CosineSimilarity" ? new CosineSimilarity() : null, Reducer(settings))
        {
            EmbeddingRegularizer = Regularizer(settings, "embeddingRegularizer"),
            EmbeddingRegularizerWeight = PmlFixture.Number(settings, "embeddingRegularizerWeight", 1),
        },
        _ => throw new InvalidOperationException($"No loss {name} in this test."),
    };

    /// <summary>The regularizer an entry names under <paramref name="property"/> (PML's defaults), or null.</summary>
    private static IRegularizer? Regularizer(JsonElement settings, string property) =>
        !settings.TryGetProperty(property, out var name) ? null : RegularizerNamed(name.GetString()!, settings);

    private static IRegularizer RegularizerNamed(string name, JsonElement settings) => name switch
    {
        "LpRegularizer" => new LpRegularizer(PmlFixture.Number(settings, "p", 2), PmlFixture.Number(settings, "power", 1)),
        "ZeroMeanRegularizer" => new ZeroMeanRegularizer(),
        "CenterInvariantRegularizer" => new CenterInvariantRegularizer(),
        "RegularFaceRegularizer" => new RegularFaceRegularizer(),
        "SparseCentersRegularizer" => new SparseCentersRegularizer((int)Setting(settings, "classes"), (int)Setting(settings, "centersPerClass")),
        _ => throw new InvalidOperationException($"No regularizer {name} in this test."),
    };

    /// <summary>The reducer an entry names ("reducer", with its settings), or null for the loss's default.</summary>
    internal static IReducer? Reducer(JsonElement settings, string property = "reducer") =>
        !settings.TryGetProperty(property, out var name) ? null : name.GetString() switch
        {
            "MeanReducer" => new MeanReducer(),
            "SumReducer" => new SumReducer(),
            "AvgNonZeroReducer" => new AvgNonZeroReducer(),
            "ThresholdReducer" => new ThresholdReducer(
                settings.TryGetProperty("low", out var low) ? low.GetDouble() : null,
                settings.TryGetProperty("high", out var high) ? high.GetDouble() : null),
            "PerAnchorReducer" => new PerAnchorReducer(Reducer(settings, "inner")),
            "ClassWeightedReducer" => new ClassWeightedReducer(settings.GetProperty("weights").EnumerateArray().Select(w => w.GetDouble())),
            var other => throw new InvalidOperationException($"No reducer {other} in this test."),
        };

    private static IMiner Miner(string name, JsonElement settings) => name switch
    {
        "MultiSimilarityMiner" => new MultiSimilarityMiner(settings.TryGetProperty("epsilon", out var e) ? e.GetDouble() : 0.1),
        "PairMarginMiner" => new PairMarginMiner(Setting(settings, "positiveMargin"), Setting(settings, "negativeMargin")),
        "BatchHardMiner" => new BatchHardMiner(),
        _ => throw new InvalidOperationException($"No miner {name} in this test."),
    };


    [Theory]
    [MemberData(nameof(LossCases))]
    public void A_loss_gives_PMLs_value_and_gradient(int index, string description)
    {
        var entry = Fixture.GetProperty("losses")[index];
        var settings = entry.GetProperty("settings");
        var (embeddings, labels) = Input(entry.GetProperty("input").GetString()!);
        using var _ = embeddings;
        using var __ = labels;
        using var x = embeddings.detach().requires_grad_(true);
        var loss = Loss(entry.GetProperty("name").GetString()!, settings);
        var miner = settings.TryGetProperty("miner", out var minerName) ? Miner(minerName.GetString()!, settings) : null;

        using var mined = miner?.Mine(x.detach(), labels);
        using var value = loss.Compute(x, labels, mined);
        if (value.requires_grad)
            value.backward();

        ShouldBeClose(value.item<double>(), entry.GetProperty("loss").GetDouble(), $"{description}: the loss");
        var expected = entry.GetProperty("gradient").EnumerateArray().SelectMany(row => row.EnumerateArray().Select(v => v.GetDouble())).ToArray();
        var actual = x.grad is null ? new double[expected.Length] : x.grad.contiguous().data<double>().ToArray();
        for (int i = 0; i < expected.Length; i++)
            ShouldBeClose(actual[i], expected[i], $"{description}: gradient element {i}");
    }

    /// <summary>
    /// Losses with weights of their own (Proxy-Anchor's proxies, ArcFace's class centres) start from the weights PML
    /// drew, copied in; their value and the gradients with respect to the embeddings and to the weights are PML's.
    /// </summary>
    [Theory]
    [MemberData(nameof(WeightedLossCases))]
    public void A_loss_with_weights_of_its_own_gives_PMLs_value_and_gradients(int index, string description)
    {
        var entry = Fixture.GetProperty("weighted_losses")[index];
        var settings = entry.GetProperty("settings");
        // A case may carry inputs of its own, made from the weights PML drew (embeddings opposite their class centre).
        var (embeddings, labels) = PmlFixture.Input(Fixture, entry);
        using var _ = embeddings;
        using var __ = labels;
        int classes = entry.GetProperty("classes").GetInt32();
        long width = embeddings.shape[1];
        var rows = entry.GetProperty("weights").EnumerateArray().Select(row => row.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        using var given = tensor(rows.SelectMany(row => row).ToArray(), new long[] { classes, width }, ScalarType.Float64);

        // The weights are made in the default dtype: float64 for this comparison, then back.
        var previous = get_default_dtype();
        set_default_dtype(ScalarType.Float64);
        IBatchLoss loss;
        TorchSharp.Modules.Parameter weights;
        try
        {
            (loss, weights) = entry.GetProperty("name").GetString() switch
            {
                "ProxyAnchorLoss" => new ProxyAnchorLoss(classes, width, Setting(settings, "alpha"), Setting(settings, "delta"))
                {
                    WeightRegularizer = Regularizer(settings, "weightRegularizer"),
                    WeightRegularizerWeight = PmlFixture.Number(settings, "weightRegularizerWeight", 1),
                } is var p ? ((IBatchLoss)p, p.Proxies) : default,
                "ArcFaceLoss" => new ArcFaceLoss(classes, width, Setting(settings, "margin"), Setting(settings, "scale"))
                {
                    WeightRegularizer = Regularizer(settings, "weightRegularizer"),
                    WeightRegularizerWeight = PmlFixture.Number(settings, "weightRegularizerWeight", 1),
                } is var a ? ((IBatchLoss)a, a.Centres) : default,
                var other => throw new InvalidOperationException($"No loss {other} in this test."),
            };
        }
        finally
        {
            set_default_dtype(previous);
        }

        using var disposeLoss = (IDisposable)loss;
        using (no_grad())
            weights.copy_(given);
        using var x = embeddings.detach().requires_grad_(true);
        using var value = loss.Compute(x, labels);
        value.backward();

        ShouldBeClose(value.item<double>(), entry.GetProperty("loss").GetDouble(), $"{description}: the loss");
        void Compare(Tensor actual, string property, string what)
        {
            var expected = entry.GetProperty(property).EnumerateArray().SelectMany(row => row.EnumerateArray().Select(v => v.GetDouble())).ToArray();
            var values = actual.contiguous().data<double>().ToArray();
            values.Should().HaveCount(expected.Length);
            for (int i = 0; i < expected.Length; i++)
                ShouldBeClose(values[i], expected[i], $"{description}: {what} element {i}");
        }

        Compare(x.grad!, "gradient", "the gradient with respect to the embeddings");
        Compare(weights.grad!, "weights_gradient", "the gradient with respect to the weights");
    }

    /// <summary>Each regularizer on its own, on the input sets' embeddings: PML's value and gradient.</summary>
    [Theory]
    [MemberData(nameof(RegularizerCases))]
    public void A_regularizer_gives_PMLs_value_and_gradient(int index, string description)
    {
        var entry = Fixture.GetProperty("regularizers")[index];
        var (embeddings, labels) = PmlFixture.Input(Fixture, entry);
        using var _ = embeddings;
        using var __ = labels;
        using var x = embeddings.detach().requires_grad_(true);
        using var value = RegularizerNamed(entry.GetProperty("name").GetString()!, entry.GetProperty("settings")).Compute(x);
        value.backward();

        ShouldBeClose(value.item<double>(), entry.GetProperty("loss").GetDouble(), $"{description}: the penalty");
        PmlFixture.ShouldMatch(x.grad, entry.GetProperty("gradient"), $"{description}: the gradient");
    }

    [Theory]
    [MemberData(nameof(MinerCases))]
    public void A_miner_picks_what_PMLs_picks(int index, string description)
    {
        var entry = Fixture.GetProperty("miners")[index];
        var (embeddings, labels) = Input(entry.GetProperty("input").GetString()!);
        using var _ = embeddings;
        using var __ = labels;
        using var mined = Miner(entry.GetProperty("name").GetString()!, entry.GetProperty("settings")).Mine(embeddings, labels);

        static long[] Values(Tensor t) => t.cpu().contiguous().data<long>().ToArray();
        static long[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt64()).ToArray();
        if (mined is MinedPairs pairs)
        {
            static string[] Set(long[] anchors, long[] others) => anchors.Zip(others, (a, o) => $"{a}-{o}").OrderBy(p => p, StringComparer.Ordinal).ToArray();
            Set(Values(pairs.PositiveAnchors), Values(pairs.Positives)).Should().Equal(
                Set(Ints(entry.GetProperty("positive_anchors")), Ints(entry.GetProperty("positives"))), $"{description}: the positive pairs");
            Set(Values(pairs.NegativeAnchors), Values(pairs.Negatives)).Should().Equal(
                Set(Ints(entry.GetProperty("negative_anchors")), Ints(entry.GetProperty("negatives"))), $"{description}: the negative pairs");
            return;
        }

        // Batch-hard: among tied distances either choice is the hardest, so the distances are compared, per anchor.
        var triplets = mined.Should().BeOfType<MinedTriplets>().Subject;
        using var distances = new LpDistance(2, normalize: true).ComputeMatrix(embeddings, embeddings);
        var d = distances.contiguous().data<double>().ToArray();
        long n = embeddings.shape[0];
        string[] Mined(long[] anchors, long[] positives, long[] negatives) => anchors
            .Select((a, i) => $"{a}: {d[a * n + positives[i]]:F12} {d[a * n + negatives[i]]:F12}")
            .OrderBy(t => t, StringComparer.Ordinal).ToArray();
        Mined(Values(triplets.Anchors), Values(triplets.Positives), Values(triplets.Negatives)).Should().Equal(
            Mined(Ints(entry.GetProperty("anchors")), Ints(entry.GetProperty("positives")), Ints(entry.GetProperty("negatives"))),
            $"{description}: the hardest positive and negative distance of each anchor");
    }
}
