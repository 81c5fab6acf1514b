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
/// MarginLoss, FastApLoss, HistogramLoss, MultipleLosses and CrossBatchMemory against pytorch-metric-learning 2.8.1's
/// MarginLoss, FastAPLoss, HistogramLoss, MultipleLosses and CrossBatchMemory: the expected values in
/// Fixtures/pml-2.8.1-special.json were computed by PML (tests/pml-reference/generate_special.py) in float64. Values and
/// gradients with respect to the embeddings (and to a learnt β) within 1e-5 relative; for the memory, each batch of a
/// sequence of four, the queue carried over, and the queue's position.
/// </summary>
public sealed class PmlSpecialReferenceTests
{
    private static readonly JsonElement Fixture = PmlFixture.Load("pml-2.8.1-special.json");

    public static IEnumerable<object[]> LossCases() => PmlFixture.Cases(Fixture, "losses");

    public static IEnumerable<object[]> BetaCases() => PmlFixture.Cases(Fixture, "beta_losses");

    public static IEnumerable<object[]> MemoryCases() => PmlFixture.Cases(Fixture, "memory");

    private static IDistance? Distance(JsonElement settings) =>
        settings.TryGetProperty("distance", out var d) && d.GetString() == "CosineSimilarity" ? new CosineSimilarity() : null;

    private static int? Classes(JsonElement settings) => settings.TryGetProperty("classes", out var c) ? c.GetInt32() : null;

    private static IMiner? Miner(JsonElement settings) => !settings.TryGetProperty("miner", out var name) ? null : name.GetString() switch
    {
        "MultiSimilarityMiner" => new MultiSimilarityMiner(),
        "TripletMarginMiner" => new TripletMarginMiner(0.2),
        "PairMarginMiner" => new PairMarginMiner(PmlFixture.Number(settings, "positiveMargin"), PmlFixture.Number(settings, "negativeMargin")),
        var other => throw new InvalidOperationException($"No miner {other} in this test."),
    };

    private static IBatchLoss Loss(string name, JsonElement settings) => name switch
    {
        "MarginLoss" => new MarginLoss(PmlFixture.Number(settings, "margin"), PmlFixture.Number(settings, "nu", 0), PmlFixture.Number(settings, "beta"),
            classes: Classes(settings), distance: Distance(settings)),
        "FastApLoss" => new FastApLoss((int)PmlFixture.Number(settings, "bins")),
        "HistogramLoss" => new HistogramLoss((int)PmlFixture.Number(settings, "bins")),
        "MultipleLosses" => new MultipleLosses(
            new IBatchLoss[] { new MarginContrastiveLoss(0.2, 0.8), new MultiSimilarityLoss() },
            settings.GetProperty("weights").EnumerateArray().Select(w => w.GetDouble()).ToArray(),
            settings.TryGetProperty("miners", out _) ? new IMiner?[] { null, new MultiSimilarityMiner() } : null),
        _ => throw new InvalidOperationException($"No loss {name} in this test."),
    };

    [Theory]
    [MemberData(nameof(LossCases))]
    public void A_loss_gives_PMLs_value_and_gradient(int index, string description)
    {
        var entry = Fixture.GetProperty("losses")[index];
        var settings = entry.GetProperty("settings");
        var (embeddings, labels) = PmlFixture.Input(Fixture, entry);
        using var _ = embeddings;
        using var __ = labels;
        using var x = embeddings.detach().requires_grad_(true);
        var loss = Loss(entry.GetProperty("name").GetString()!, settings);
        // MultipleLosses's miners are its own; the other losses' miner mines the batch first.
        var miner = loss is MultipleLosses ? null : Miner(settings);

        using var mined = miner?.Mine(x.detach(), labels);
        using var value = loss.Compute(x, labels, mined);
        if (value.requires_grad)
            value.backward();

        PmlFixture.ShouldBeClose(value.item<double>(), entry.GetProperty("loss").GetDouble(), $"{description}: the loss");
        PmlFixture.ShouldMatch(x.grad, entry.GetProperty("gradient"), $"{description}: the gradient");
    }

    [Theory]
    [MemberData(nameof(BetaCases))]
    public void The_margin_loss_with_a_learnt_beta_gives_PMLs_value_and_gradients(int index, string description)
    {
        var entry = Fixture.GetProperty("beta_losses")[index];
        var settings = entry.GetProperty("settings");
        var (embeddings, labels) = PmlFixture.Input(Fixture, entry);
        using var _ = embeddings;
        using var __ = labels;
        using var loss = PmlFixture.WithFloat64Default(() => new MarginLoss(PmlFixture.Number(settings, "margin"), PmlFixture.Number(settings, "nu"),
            PmlFixture.Number(settings, "beta"), learnBeta: true, classes: Classes(settings), distance: Distance(settings)));
        var beta = loss.LearntBeta!;
        loss.ParameterGroups.Should().ContainSingle().Which.Parameters.Should().ContainSingle().Which.Should().BeSameAs(beta);
        using (no_grad())
        using (var given = tensor(PmlFixture.Flat(entry.GetProperty("beta")), ScalarType.Float64))
            beta.copy_(given);

        using var x = embeddings.detach().requires_grad_(true);
        using var value = loss.Compute(x, labels);
        value.backward();

        PmlFixture.ShouldBeClose(value.item<double>(), entry.GetProperty("loss").GetDouble(), $"{description}: the loss");
        PmlFixture.ShouldMatch(x.grad, entry.GetProperty("gradient"), $"{description}: the gradient");
        PmlFixture.ShouldMatch(beta.grad, entry.GetProperty("beta_gradient"), $"{description}: the gradient with respect to beta");
    }

    [Theory]
    [MemberData(nameof(MemoryCases))]
    public void The_cross_batch_memory_gives_PMLs_values_and_gradients_batch_after_batch(int index, string description)
    {
        var entry = Fixture.GetProperty("memory")[index];
        var settings = entry.GetProperty("settings");
        IBatchLoss wrapped = settings.GetProperty("loss").GetString() switch
        {
            "MarginContrastiveLoss" => new MarginContrastiveLoss(PmlFixture.Number(settings, "positiveMargin"), PmlFixture.Number(settings, "negativeMargin")),
            "MultiSimilarityLoss" => new MultiSimilarityLoss(),
            var other => throw new InvalidOperationException($"No loss {other} in this test."),
        };
        using var memory = new CrossBatchMemory(wrapped, 4, (int)PmlFixture.Number(settings, "memorySize"), Miner(settings), ScalarType.Float64);
        int step = 0;
        foreach (var expected in entry.GetProperty("steps").EnumerateArray())
        {
            var (embeddings, labels) = PmlFixture.Input(expected);
            using var _ = embeddings;
            using var __ = labels;
            using var x = embeddings.detach().requires_grad_(true);
            using var value = memory.Compute(x, labels);
            value.backward();

            string what = $"{description}, batch {step}";
            PmlFixture.ShouldBeClose(value.item<double>(), expected.GetProperty("loss").GetDouble(), $"{what}: the loss");
            PmlFixture.ShouldMatch(x.grad, expected.GetProperty("gradient"), $"{what}: the gradient");
            memory.Position.Should().Be(expected.GetProperty("position").GetInt32(), what);
            memory.IsFull.Should().Be(expected.GetProperty("full").GetBoolean(), what);
            step++;
        }
    }
}
