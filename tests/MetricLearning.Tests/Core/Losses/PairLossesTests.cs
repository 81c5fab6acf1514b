using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using MetricLearning.Losses;
using MetricLearning.Mining;
using MetricLearning.Reducers;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Losses;

/// <summary>The pair losses' behaviour: their checks on settings and inputs, batches with nothing to learn, and what they reduce by default.</summary>
public sealed class PairLossesTests
{
    public static TheoryData<string> Names => new()
    {
        "circle", "nt-xent", "lifted", "generalized-lifted", "n-pairs", "tuplet", "intra-pair-variance", "snr-contrastive",
    };

    private static BatchLoss Create(string name) => name switch
    {
        "circle" => new CircleLoss(),
        "nt-xent" => new NTXentLoss(),
        "lifted" => new LiftedStructureLoss(),
        "generalized-lifted" => new GeneralizedLiftedStructureLoss(),
        "n-pairs" => new NPairsLoss(),
        "tuplet" => new TupletMarginLoss(),
        "intra-pair-variance" => new IntraPairVarianceLoss(),
        _ => new SignalToNoiseRatioContrastiveLoss(),
    };

    public static TheoryData<string, string> BadSettings => new()
    {
        { "circle m", "m" }, { "circle gamma", "gamma" }, { "nt-xent temperature", "temperature" },
        { "lifted negative", "negativeMargin" }, { "lifted positive", "positiveMargin" },
        { "generalized-lifted negative", "negativeMargin" }, { "generalized-lifted positive", "positiveMargin" },
        { "tuplet margin", "margin" }, { "tuplet scale", "scale" },
        { "intra-pair-variance positive", "positiveEpsilon" }, { "intra-pair-variance negative", "negativeEpsilon" },
        { "snr-contrastive positive", "positiveMargin" }, { "snr-contrastive negative", "negativeMargin" },
    };

    private static Func<object> Bad(string what) => what switch
    {
        "circle m" => () => new CircleLoss(m: 1.5),
        "circle gamma" => () => new CircleLoss(gamma: 0),
        "nt-xent temperature" => () => new NTXentLoss(temperature: -1),
        "lifted negative" => () => new LiftedStructureLoss(negativeMargin: double.NaN),
        "lifted positive" => () => new LiftedStructureLoss(positiveMargin: double.PositiveInfinity),
        "generalized-lifted negative" => () => new GeneralizedLiftedStructureLoss(negativeMargin: double.NaN),
        "generalized-lifted positive" => () => new GeneralizedLiftedStructureLoss(positiveMargin: double.NegativeInfinity),
        "tuplet margin" => () => new TupletMarginLoss(margin: 5.73, scale: 64),
        "tuplet scale" => () => new TupletMarginLoss(scale: 0),
        "intra-pair-variance positive" => () => new IntraPairVarianceLoss(positiveEpsilon: -0.1),
        "intra-pair-variance negative" => () => new IntraPairVarianceLoss(negativeEpsilon: 2),
        "snr-contrastive positive" => () => new SignalToNoiseRatioContrastiveLoss(positiveMargin: double.NaN),
        _ => () => new SignalToNoiseRatioContrastiveLoss(negativeMargin: double.NaN),
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void A_setting_out_of_range_is_refused_naming_it(string what, string parameter)
    {
        Bad(what).Should().Throw<ArgumentOutOfRangeException>().WithParameterName(parameter);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Bad_inputs_are_refused(string name)
    {
        var loss = Create(name);
        using var embeddings = randn(4, 3);
        using var labels = tensor(new long[] { 0, 0, 1, 1 });
        using var floatLabels = tensor(new float[] { 0, 0, 1, 1 });
        using var threeLabels = tensor(new long[] { 0, 0, 1 });
        using var one = randn(1, 3);
        using var oneLabel = tensor(new long[] { 0 });
        using var vector = randn(4);
        using var otherBatch = randn(6, 3);
        using var otherLabels = tensor(new long[] { 0, 0, 1, 1, 2, 2 });
        using var mined = new MultiSimilarityMiner(epsilon: 1).Mine(otherBatch, otherLabels);

        FluentActions.Invoking(() => loss.Compute(embeddings, floatLabels)).Should().Throw<ArgumentException>().WithMessage("*integer*");
        FluentActions.Invoking(() => loss.Compute(embeddings, threeLabels)).Should().Throw<ArgumentException>().WithMessage("*3 labels*");
        FluentActions.Invoking(() => loss.Compute(one, oneLabel)).Should().Throw<ArgumentException>().WithMessage("*at least two*");
        FluentActions.Invoking(() => loss.Compute(vector, labels)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => loss.Compute(embeddings, labels, mined)).Should().Throw<ArgumentException>().WithMessage("*6 embeddings*");
    }

    /// <summary>For each loss, a batch it has nothing to learn from (float64, so that the 0 is exact).</summary>
    private static (Tensor Embeddings, Tensor Labels) NothingToLearn(string name)
    {
        var x = new[] { 1.0, 0, 0 };
        var y = new[] { 0.0, 1, 0 };
        var minusX = new[] { -1.0, 0, 0 };
        double[][] rows = name switch
        {
            // Same-class pairs together, the other class opposite: the generalised lifted and SNR losses' margins are met.
            "generalized-lifted" or "snr-contrastive" => new[] { x, x, minusX, minusX },
            // Every same-class pair at 1 and every different-class pair at 0: no pair strays from its kind's mean.
            "intra-pair-variance" => new[] { x, x, y, y },
            // One class: nothing to contrast (N-pairs: one pair, which picks its own positive among one).
            _ => new[] { new[] { 1.0, 0.2, -0.3 }, new[] { 0.4, 1, 0.1 }, new[] { -0.2, 0.3, 1 }, new[] { 0.5, 0.5, 0.5 } },
        };
        long[] labels = name is "generalized-lifted" or "snr-contrastive" or "intra-pair-variance" ? new long[] { 0, 0, 1, 1 } : new long[] { 3, 3, 3, 3 };
        return (tensor(rows.SelectMany(r => r).ToArray(), new long[] { 4, 3 }, ScalarType.Float64), tensor(labels));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void A_batch_with_nothing_to_learn_gives_0_connected_to_the_embeddings(string name)
    {
        var (embeddings, labels) = NothingToLearn(name);
        using var _ = embeddings;
        using var __ = labels;
        using var x = embeddings.detach().requires_grad_(true);

        using var value = Create(name).Compute(x, labels);
        value.backward();

        value.item<double>().Should().BeApproximately(0, 1e-12, name);
        x.grad!.abs().max().item<double>().Should().BeApproximately(0, 1e-9, $"{name}: gradients are finite and 0");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Mined_indices_that_keep_nothing_give_0_connected_to_the_embeddings(string name)
    {
        using var x = randn(new long[] { 6, 4 }, dtype: ScalarType.Float64).requires_grad_(true);
        using var labels = tensor(new long[] { 0, 0, 1, 1, 2, 2 });
        using var none = tensor(Array.Empty<long>());
        using var mined = new MinedPairs(none, none, none, none, 6);

        using var value = Create(name).Compute(x, labels, mined);
        value.backward();

        value.item<double>().Should().Be(0, name);
        x.grad!.isnan().any().item<bool>().Should().BeFalse(name);
    }

    [Fact]
    public void Default_reducers_are_PMLs()
    {
        new CircleLoss().Reducer.Should().BeOfType<AvgNonZeroReducer>();
        new SignalToNoiseRatioContrastiveLoss().Reducer.Should().BeOfType<AvgNonZeroReducer>();
        foreach (var name in new[] { "nt-xent", "lifted", "generalized-lifted", "n-pairs", "tuplet", "intra-pair-variance" })
            Create(name).Reducer.Should().BeOfType<MeanReducer>(name);
    }

    [Fact]
    public void N_pairs_takes_the_lowest_rows_of_each_class_whatever_comes_after_them()
    {
        // Rows 0–1 and 2–3 are the chosen pairs; rows 4 and 5 (of the same classes) change nothing.
        using var first = GradientCheckTests.Random(20, 6, 3);
        using var second = first.clone();
        using (no_grad())
            second[4] = second[4] * 3 + 1;
        using var labels = tensor(new long[] { 0, 0, 1, 1, 0, 1 });
        var loss = new NPairsLoss();

        var terms = loss.ComputeTerms(first, labels);
        terms.Single().Valid!.data<bool>().ToArray().Should().Equal(true, false, true, false, false, false);
        loss.Compute(second, labels).item<double>().Should().BeApproximately(loss.Compute(first, labels).item<double>(), 1e-12);
        foreach (var t in terms)
            t.Dispose();
    }

    [Fact]
    public void The_SNR_loss_is_the_margin_contrastive_loss_on_the_SNR_distance()
    {
        using var x = GradientCheckTests.Random(21, 8, 5);
        using var labels = tensor(new long[] { 0, 0, 1, 1, 2, 2, 3, 3 });

        double snr = new SignalToNoiseRatioContrastiveLoss(0.1, 0.9).Compute(x, labels).item<double>();
        double contrastive = new MarginContrastiveLoss(0.1, 0.9, new MetricLearning.Distances.SnrDistance()).Compute(x, labels).item<double>();

        snr.Should().Be(contrastive);
    }
}
