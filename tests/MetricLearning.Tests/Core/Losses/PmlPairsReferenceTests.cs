using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Mining;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Losses;

/// <summary>
/// The pair losses (Circle, NT-Xent, lifted structure and its generalisation, N-pairs, tuplet margin, intra-pair
/// variance, SNR contrastive) and the SNR distance against pytorch-metric-learning 2.8.1's own code: the expected
/// values in Fixtures/pml-2.8.1-pairs.json were computed by PML (tests/pml-reference/generate_pairs.py, float64) on
/// the shared input sets, with and without a miner. Value and gradient with respect to the embeddings within 1e-5
/// relative. Left out (see the generator): the tuplet margin loss on tied inputs (a same-class pair at cosine −1,
/// where PML's gradient is NaN), and the N-pairs loss after PML's multi-similarity miner (PML's choice of pair
/// follows that miner's order, ours the rows').
/// </summary>
public sealed class PmlPairsReferenceTests
{
    private static readonly JsonElement Fixture = PmlFixture.Load("pml-2.8.1-pairs.json");

    public static IEnumerable<object[]> LossCases() => PmlFixture.Cases(Fixture, "losses");

    public static IEnumerable<object[]> DistanceCases() => PmlFixture.Cases(Fixture, "distances");

    private static double Setting(JsonElement settings, string name) => PmlFixture.Number(settings, name);

    /// <summary>The distance an entry names, or null for the loss's default (PML's, which the test relies on).</summary>
    private static IDistance? Distance(JsonElement settings) =>
        !settings.TryGetProperty("distance", out var name) ? null : name.GetString() switch
        {
            // PML's LpDistance() is the Euclidean distance of L2-normalised embeddings.
            "LpDistance" => new LpDistance(2, normalize: true),
            "CosineSimilarity" => new CosineSimilarity(),
            "DotProductSimilarity" => new DotProductSimilarity(),
            var other => throw new InvalidOperationException($"No distance {other} in this test."),
        };

    private static IBatchLoss Loss(string name, JsonElement settings) => name switch
    {
        "CircleLoss" => new CircleLoss(Setting(settings, "m"), Setting(settings, "gamma")),
        "NTXentLoss" => new NTXentLoss(Setting(settings, "temperature"), Distance(settings)),
        "LiftedStructureLoss" => new LiftedStructureLoss(Setting(settings, "negativeMargin"), Setting(settings, "positiveMargin"), Distance(settings)),
        "GeneralizedLiftedStructureLoss" => new GeneralizedLiftedStructureLoss(Setting(settings, "negativeMargin"), Setting(settings, "positiveMargin"), Distance(settings)),
        "NPairsLoss" => new NPairsLoss(Distance(settings)),
        "TupletMarginLoss" => new TupletMarginLoss(Setting(settings, "margin"), Setting(settings, "scale")),
        "IntraPairVarianceLoss" => new IntraPairVarianceLoss(Setting(settings, "positiveEpsilon"), Setting(settings, "negativeEpsilon"), Distance(settings)),
        "SignalToNoiseRatioContrastiveLoss" => new SignalToNoiseRatioContrastiveLoss(Setting(settings, "positiveMargin"), Setting(settings, "negativeMargin"),
            settings.TryGetProperty("normalize", out var n) ? new SnrDistance(n.GetInt32() != 0) : null),
        _ => throw new InvalidOperationException($"No loss {name} in this test."),
    };

    private static IMiner? Miner(JsonElement settings) =>
        !settings.TryGetProperty("miner", out var name) ? null : name.GetString() switch
        {
            "MultiSimilarityMiner" => new MultiSimilarityMiner(Setting(settings, "epsilon")),
            "BatchHardMiner" => new BatchHardMiner(),
            var other => throw new InvalidOperationException($"No miner {other} in this test."),
        };

    [Theory]
    [MemberData(nameof(LossCases))]
    public void A_pair_loss_gives_PMLs_value_and_gradient(int index, string description)
    {
        var entry = Fixture.GetProperty("losses")[index];
        var settings = entry.GetProperty("settings");
        var (embeddings, labels) = PmlFixture.Input(Fixture, entry);
        using var _ = embeddings;
        using var __ = labels;
        using var x = embeddings.detach().requires_grad_(true);
        var loss = Loss(entry.GetProperty("name").GetString()!, settings);

        using var mined = Miner(settings)?.Mine(x.detach(), labels);
        using var value = loss.Compute(x, labels, mined);
        if (value.requires_grad)
            value.backward();

        PmlFixture.ShouldBeClose(value.item<double>(), entry.GetProperty("loss").GetDouble(), $"{description}: the loss");
        PmlFixture.ShouldMatch(x.grad, entry.GetProperty("gradient"), $"{description}: the gradient");
    }

    [Theory]
    [MemberData(nameof(DistanceCases))]
    public void The_SNR_distance_gives_PMLs_values(int index, string description)
    {
        var entry = Fixture.GetProperty("distances")[index];
        var (embeddings, _) = PmlFixture.Input(Fixture, entry);
        using var __ = embeddings;
        var distance = new SnrDistance(entry.GetProperty("settings").GetProperty("normalize").GetInt32() != 0);
        long half = embeddings.shape[0] / 2;

        using var matrix = distance.ComputeMatrix(embeddings, embeddings);
        using var first = embeddings.narrow(0, 0, half);
        using var second = embeddings.narrow(0, half, half);
        using var rowWise = distance.Compute(first, second);

        PmlFixture.ShouldMatch(matrix, entry.GetProperty("matrix"), $"{description}: the matrix");
        PmlFixture.ShouldMatch(rowWise, entry.GetProperty("row_wise"), $"{description}: row-wise");
    }
}
