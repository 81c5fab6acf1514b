using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using FluentAssertions;
using MetricLearning.Losses;
using MetricLearning.Tests.TestSupport;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Losses;

/// <summary>
/// CosFace, sub-centre ArcFace, normalized softmax, Proxy-NCA and SoftTriple against pytorch-metric-learning 2.8.1's
/// own code (Fixtures/pml-2.8.1-proxies.json, from tests/pml-reference/generate_proxies.py): on the four input sets,
/// each loss starts from the weights PML drew, copied in (PML's transposed <c>[D, rows]</c> weights written one row per
/// class or sub-centre), and its value and gradients with respect to the embeddings and the weights must be PML's
/// within 1e-5 relative. Two settings of each loss, and a third with a non-default reducer for three of them. And
/// sub-centre ArcFace's outliers and dominant sub-centres (PML's <c>get_outliers</c>) at three thresholds.
/// </summary>
public sealed class PmlProxiesReferenceTests
{
    private static readonly JsonElement Fixture = PmlFixture.Load("pml-2.8.1-proxies.json");

    public static IEnumerable<object[]> Cases() => PmlFixture.Cases(Fixture, "weighted_losses");

    public static IEnumerable<object[]> OutlierCases() => PmlFixture.Cases(Fixture, "outliers");

    private static (BatchLoss Loss, Parameter Weights) Create(string name, JsonElement s, int classes, long width)
    {
        var reducer = PmlReferenceTests.Reducer(s);
        return name switch
        {
            "CosFaceLoss" => new CosFaceLoss(classes, width, PmlFixture.Number(s, "margin"), PmlFixture.Number(s, "scale"), reducer: reducer) is var c ? (c, c.Centres) : default,
            "SubCenterArcFaceLoss" => new SubCenterArcFaceLoss(classes, width, (int)PmlFixture.Number(s, "subCentres"), PmlFixture.Number(s, "margin"), PmlFixture.Number(s, "scale"), reducer: reducer) is var a ? (a, a.Centres) : default,
            "NormalizedSoftmaxLoss" => new NormalizedSoftmaxLoss(classes, width, PmlFixture.Number(s, "temperature"), reducer: reducer) is var n ? (n, n.Centres) : default,
            "ProxyNcaLoss" => new ProxyNcaLoss(classes, width, PmlFixture.Number(s, "softmaxScale"), reducer: reducer) is var p ? (p, p.Proxies) : default,
            "SoftTripleLoss" => new SoftTripleLoss(classes, width, (int)PmlFixture.Number(s, "centresPerClass"), PmlFixture.Number(s, "lambda"),
                PmlFixture.Number(s, "gamma"), PmlFixture.Number(s, "margin"), reducer: reducer) is var t ? (t, t.Centres) : default,
            var other => throw new InvalidOperationException($"No loss {other} in this test."),
        };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_loss_gives_PMLs_value_and_gradients_from_PMLs_weights(int index, string description)
    {
        var entry = Fixture.GetProperty("weighted_losses")[index];
        var (embeddings, labels) = PmlFixture.Input(Fixture, entry);
        using var _ = embeddings;
        using var __ = labels;
        int classes = entry.GetProperty("classes").GetInt32();
        using var given = PmlFixture.Matrix(entry.GetProperty("weights"));
        var (loss, weights) = PmlFixture.WithFloat64Default(() => Create(entry.GetProperty("name").GetString()!, entry.GetProperty("settings"), classes, embeddings.shape[1]));
        using var disposeLoss = (IDisposable)loss;
        weights.shape.Should().Equal(given.shape, "ours hold as many class vectors as PML");
        weights.dtype.Should().Be(ScalarType.Float64);
        using (no_grad())
            weights.copy_(given);
        ((ITrainableParameters)loss).ParameterGroups.Single().Parameters.Single().Should().BeSameAs(weights);

        using var x = embeddings.detach().requires_grad_(true);
        using var value = loss.Compute(x, labels);
        value.backward();

        PmlFixture.ShouldBeClose(value.item<double>(), entry.GetProperty("loss").GetDouble(), $"{description}: the loss");
        PmlFixture.ShouldMatch(x.grad, entry.GetProperty("gradient"), $"{description}: the gradient with respect to the embeddings");
        PmlFixture.ShouldMatch(weights.grad, entry.GetProperty("weights_gradient"), $"{description}: the gradient with respect to the weights");
    }

    [Theory]
    [MemberData(nameof(OutlierCases))]
    public void Sub_centre_ArcFace_finds_PMLs_outliers_and_dominant_sub_centres(int index, string description)
    {
        var entry = Fixture.GetProperty("outliers")[index];
        var settings = entry.GetProperty("settings");
        var (embeddings, labels) = PmlFixture.Input(Fixture, entry);
        using var _ = embeddings;
        using var __ = labels;
        int classes = entry.GetProperty("classes").GetInt32();
        using var given = PmlFixture.Matrix(entry.GetProperty("weights"));
        using var loss = PmlFixture.WithFloat64Default(() => new SubCenterArcFaceLoss(classes, embeddings.shape[1], (int)PmlFixture.Number(settings, "subCentres")));
        using (no_grad())
            loss.Centres.copy_(given);

        var (outliers, dominant) = loss.FindOutliers(embeddings, labels, PmlFixture.Number(settings, "threshold"));

        outliers.Should().Equal(entry.GetProperty("outliers").EnumerateArray().Select(v => v.GetInt64()), $"{description}: the outliers");
        var present = entry.GetProperty("present_classes").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        dominant.Should().HaveCount(classes);
        for (int c = 0; c < classes; c++)
        {
            int at = Array.IndexOf(present, c);
            if (at < 0)
            {
                dominant[c].Should().Be(-1, $"{description}: class {c} has no sample");
                continue;
            }

            dominant[c].Should().BeInRange(c * loss.SubCentres, (c + 1) * loss.SubCentres - 1L, $"{description}: class {c}'s dominant sub-centre is one of its own");
            using var row = given[dominant[c]];
            PmlFixture.ShouldMatch(row, entry.GetProperty("dominant_centres")[at], $"{description}: class {c}'s dominant sub-centre");
        }
    }
}
