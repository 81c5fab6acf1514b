using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using MetricLearning.Losses;
using MetricLearning.Networks;
using MetricLearning.Reducers;
using MetricLearning.Tests.TestSupport;
using MetricLearning.Training;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Losses;

/// <summary>
/// Behaviour of CosFace, sub-centre ArcFace, normalized softmax, Proxy-NCA and SoftTriple: settings and batches they
/// refuse, a batch with nothing left to learn, their weights' layout, initialisation and regularizer, and training.
/// </summary>
public sealed class ProxiesLossTests
{
    public static TheoryData<string> Losses => new() { "cosface", "subcenter-arcface", "normalized-softmax", "proxy-nca", "soft-triple" };

    /// <summary>The loss with its defaults (Proxy-NCA with a larger scale), its weights, and how many per class.</summary>
    private static (BatchLoss Loss, Parameter Weights, int PerClass) Default(string name, int classes, long width, IReducer? reducer = null, double learningRateScale = 1) => name switch
    {
        "cosface" => new CosFaceLoss(classes, width, learningRateScale: learningRateScale, reducer: reducer) is var c ? (c, c.Centres, 1) : default,
        "subcenter-arcface" => new SubCenterArcFaceLoss(classes, width, learningRateScale: learningRateScale, reducer: reducer) is var a ? (a, a.Centres, 3) : default,
        "normalized-softmax" => new NormalizedSoftmaxLoss(classes, width, learningRateScale: learningRateScale, reducer: reducer) is var n ? (n, n.Centres, 1) : default,
        "proxy-nca" => new ProxyNcaLoss(classes, width, softmaxScale: 32, learningRateScale: learningRateScale, reducer: reducer) is var p ? (p, p.Proxies, 1) : default,
        "soft-triple" => new SoftTripleLoss(classes, width, learningRateScale: learningRateScale, reducer: reducer) is var t ? (t, t.Centres, 10) : default,
        _ => throw new ArgumentException($"No loss {name}.", nameof(name)),
    };

    public static IEnumerable<object[]> BadSettings()
    {
        object[] Case(string parameter, Func<object> create) => new object[] { parameter, create };
        yield return Case("classes", () => new CosFaceLoss(1, 4));
        yield return Case("embeddingSize", () => new CosFaceLoss(3, 0));
        yield return Case("learningRateScale", () => new CosFaceLoss(3, 4, learningRateScale: 0));
        yield return Case("margin", () => new CosFaceLoss(3, 4, margin: -0.1));
        yield return Case("scale", () => new CosFaceLoss(3, 4, scale: double.NaN));
        yield return Case("classes", () => new SubCenterArcFaceLoss(1, 4));
        yield return Case("subCentres", () => new SubCenterArcFaceLoss(3, 4, subCentres: 0));
        yield return Case("margin", () => new SubCenterArcFaceLoss(3, 4, margin: 2));
        yield return Case("scale", () => new SubCenterArcFaceLoss(3, 4, scale: 0));
        yield return Case("learningRateScale", () => new SubCenterArcFaceLoss(3, 4, learningRateScale: double.PositiveInfinity));
        yield return Case("classes", () => new NormalizedSoftmaxLoss(0, 4));
        yield return Case("temperature", () => new NormalizedSoftmaxLoss(3, 4, temperature: 0));
        yield return Case("embeddingSize", () => new NormalizedSoftmaxLoss(3, -1));
        yield return Case("classes", () => new ProxyNcaLoss(1, 4));
        yield return Case("softmaxScale", () => new ProxyNcaLoss(3, 4, softmaxScale: -1));
        yield return Case("learningRateScale", () => new ProxyNcaLoss(3, 4, learningRateScale: -1));
        yield return Case("classes", () => new SoftTripleLoss(1, 4));
        yield return Case("centresPerClass", () => new SoftTripleLoss(3, 4, centresPerClass: 0));
        yield return Case("centresPerClass", () => new SoftTripleLoss(100_000, 4, centresPerClass: 100_000));
        yield return Case("lambda", () => new SoftTripleLoss(3, 4, lambda: 0));
        yield return Case("gamma", () => new SoftTripleLoss(3, 4, gamma: 0));
        yield return Case("margin", () => new SoftTripleLoss(3, 4, margin: -0.01));
    }

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void A_setting_out_of_range_is_refused_by_name(string parameter, Func<object> create) =>
        create.Should().Throw<ArgumentOutOfRangeException>().WithParameterName(parameter);

    [Theory]
    [MemberData(nameof(Losses))]
    public void Bad_batches_and_mined_indices_are_refused(string name)
    {
        var (loss, _, _) = Default(name, classes: 3, width: 4);
        using var __ = (IDisposable)loss;
        using var embeddings = randn(4, 4);
        using var labels = tensor(new long[] { 0, 0, 1, 2 });
        using var wide = randn(4, 5);
        using var flat = randn(4);
        using var outside = tensor(new long[] { 0, 1, 2, 3 });
        using var negative = tensor(new long[] { 0, -1, 1, 2 });
        using var shortLabels = tensor(new long[] { 0, 1, 2 });
        using var mined = new MinedTriplets(tensor(new long[] { 0 }), tensor(new long[] { 1 }), tensor(new long[] { 2 }), 4);

        loss.Invoking(l => l.Compute(embeddings, labels, mined)).Should().Throw<ArgumentException>().WithMessage("*no mined pairs or triplets*without a miner*");
        loss.Invoking(l => l.Compute(wide, labels)).Should().Throw<ArgumentException>().WithMessage("*5 wide*4*");
        loss.Invoking(l => l.Compute(embeddings, outside)).Should().Throw<ArgumentException>().WithMessage("*Label 3 is outside the 3 classes*");
        loss.Invoking(l => l.Compute(embeddings, negative)).Should().Throw<ArgumentException>().WithMessage("*Label -1 is outside*");
        loss.Invoking(l => l.Compute(flat, labels)).Should().Throw<ArgumentException>();
        loss.Invoking(l => l.Compute(embeddings, shortLabels)).Should().Throw<ArgumentException>();
    }

    /// <summary>Orthogonal class vectors (every vector of class c along axis c) and each embedding on its class's axis.</summary>
    private static (Tensor Embeddings, Tensor Labels) Separated(Parameter weights, int perClass, int classes)
    {
        var labels = tensor(new long[] { 0, 1, 2, 3, 0, 1, 2, 3 });
        using (no_grad())
        {
            using var axes = eye(classes, dtype: weights.dtype);
            using var rows = axes.repeat_interleave(perClass, dim: 0);
            weights.copy_(rows);
        }

        using var unit = eye(classes, dtype: ScalarType.Float32);
        var embeddings = unit.index_select(0, labels) * 2;
        return (embeddings, labels);
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void A_batch_with_nothing_left_to_learn_gives_almost_0_and_0_through_a_threshold_with_finite_gradients(string name)
    {
        var (loss, weights, perClass) = Default(name, classes: 4, width: 4);
        using var _ = (IDisposable)loss;
        var (embeddings, labels) = Separated(weights, perClass, 4);
        using var __ = embeddings;
        using var ___ = labels;
        using var x = embeddings.detach().requires_grad_(true);

        using var value = loss.Compute(x, labels);
        value.requires_grad.Should().BeTrue();
        double v = value.item<float>();
        v.Should().BeGreaterThanOrEqualTo(0).And.BeLessThan(1e-6, "every embedding sits on its class's vectors, far from the others");
        value.backward();
        Tensors.Values(x.grad!).Should().OnlyContain(g => float.IsFinite(g));
        Tensors.Values(weights.grad!).Should().OnlyContain(g => float.IsFinite(g));

        // Through a reducer that keeps only values above 0.1, nothing is left: exactly 0, still on the graph.
        var (thresholded, thresholdedWeights, _) = Default(name, classes: 4, width: 4, new ThresholdReducer(low: 0.1));
        using var ____ = (IDisposable)thresholded;
        var (sameEmbeddings, sameLabels) = Separated(thresholdedWeights, perClass, 4);
        sameEmbeddings.Dispose();
        sameLabels.Dispose();
        x.grad = null;
        using var zero = thresholded.Compute(x, labels);
        zero.item<float>().Should().Be(0);
        zero.requires_grad.Should().BeTrue();
        zero.backward();
        Tensors.Values(x.grad!).Should().OnlyContain(g => g == 0);
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void One_element_term_per_sample(string name)
    {
        manual_seed(3);
        var (loss, weights, perClass) = Default(name, classes: 4, width: 6);
        using var _ = (IDisposable)loss;
        weights.shape.Should().Equal(4L * perClass, 6L);
        using var embeddings = randn(8, 6);
        using var labels = tensor(new long[] { 0, 1, 2, 3, 3, 2, 1, 0 });

        var terms = loss.ComputeTerms(embeddings, labels);
        terms.Should().ContainSingle();
        terms[0].Kind.Should().Be(LossTermKind.Element);
        terms[0].Values.shape.Should().Equal(8L);
        terms[0].Valid.Should().BeNull();
        foreach (var t in terms)
            t.Dispose();
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void A_weight_regularizer_penalises_the_class_vectors(string name)
    {
        manual_seed(4);
        var (loss, weights, _) = Default(name, classes: 3, width: 5);
        using var _ = (IDisposable)loss;
        BatchLoss regularized = loss switch
        {
            CosFaceLoss => new CosFaceLoss(3, 5) { WeightRegularizer = new SumOfSquares(), WeightRegularizerWeight = 0.5 },
            SubCenterArcFaceLoss => new SubCenterArcFaceLoss(3, 5) { WeightRegularizer = new SumOfSquares(), WeightRegularizerWeight = 0.5 },
            NormalizedSoftmaxLoss => new NormalizedSoftmaxLoss(3, 5) { WeightRegularizer = new SumOfSquares(), WeightRegularizerWeight = 0.5 },
            ProxyNcaLoss => new ProxyNcaLoss(3, 5, softmaxScale: 32) { WeightRegularizer = new SumOfSquares(), WeightRegularizerWeight = 0.5 },
            _ => new SoftTripleLoss(3, 5) { WeightRegularizer = new SumOfSquares(), WeightRegularizerWeight = 0.5 },
        };
        using var __ = (IDisposable)regularized;
        var regularizedWeights = ((ITrainableParameters)regularized).ParameterGroups.Single().Parameters.Single();
        using (no_grad())
            regularizedWeights.copy_(weights);
        using var embeddings = randn(6, 5);
        using var labels = tensor(new long[] { 0, 1, 2, 0, 1, 2 });

        using var plain = loss.Compute(embeddings, labels);
        using var penalised = regularized.Compute(embeddings, labels);
        using var squares = weights.detach().square().sum();
        penalised.item<float>().Should().BeApproximately(plain.item<float>() + 0.5f * squares.item<float>(), 1e-3f * (1 + penalised.item<float>()));
    }

    private sealed class SumOfSquares : IRegularizer
    {
        public Tensor Compute(Tensor rows) => rows.square().sum();
    }

    [Fact]
    public void Class_vectors_are_drawn_as_PMLs_are()
    {
        manual_seed(5);
        using var cosFace = new CosFaceLoss(50, 40);
        using var softTriple = new SoftTripleLoss(20, 40, centresPerClass: 5);
        using var std = cosFace.Centres.detach().std();
        std.item<float>().Should().BeApproximately(1, 0.05f, "PML draws W from a standard normal");
        double bound = 1 / Math.Sqrt(100);
        using var max = softTriple.Centres.detach().abs().max();
        max.item<float>().Should().BeLessThanOrEqualTo((float)bound, "kaiming_uniform_(a=√5) of a [40, 100] tensor draws from U(−0.1, 0.1)");
        using var softStd = softTriple.Centres.detach().std();
        softStd.item<float>().Should().BeApproximately((float)(bound / Math.Sqrt(3)), 0.005f);
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void The_trainer_learns_the_class_vectors_with_the_network(string name)
    {
        var (inputs, labels) = Blobs.CreateHard(perClass: 20, classes: 4, dimensions: 16, seed: 17);
        using var _ = inputs;
        manual_seed(17);
        using var network = new MlpEmbeddingNetwork(new MlpOptions { InputSize = 16, LayerSizes = new[] { 32, 8 }, Dropout = 0, ActivateLastLayer = false });
        var (loss, weights, _) = Default(name, classes: 4, width: 8, learningRateScale: 2);
        using var __ = (IDisposable)loss;
        var group = ((ITrainableParameters)loss).ParameterGroups.Should().ContainSingle().Subject;
        group.Parameters.Should().ContainSingle().Which.Should().BeSameAs(weights);
        group.LearningRateScale.Should().Be(2);
        using var before = weights.detach().clone();
        var options = new EmbeddingTrainerOptions { Epochs = 10, SamplesPerClass = 8, BatchSize = 32, Optimizer = { LearningRate = 1e-2 }, Seed = 17 };

        var reports = new EmbeddingTrainer(loss, options).Fit(network, inputs, labels);

        reports[^1].Loss.Should().BeLessThan(reports[0].Loss);
        using var change = weights.detach().sub(before).abs().max();
        change.item<float>().Should().BeGreaterThan(1e-3f, "the class vectors are trained too");
    }

    [Fact]
    public void Finding_sub_centre_outliers_refuses_a_bad_threshold_or_batch()
    {
        using var loss = new SubCenterArcFaceLoss(3, 4);
        using var embeddings = randn(4, 4);
        using var labels = tensor(new long[] { 0, 0, 1, 2 });
        using var outside = tensor(new long[] { 0, 0, 1, 3 });

        loss.Invoking(l => l.FindOutliers(embeddings, labels, threshold: -0.1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("threshold");
        loss.Invoking(l => l.FindOutliers(embeddings, labels, threshold: 4)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("threshold");
        loss.Invoking(l => l.FindOutliers(embeddings, outside)).Should().Throw<ArgumentException>().WithMessage("*Label 3 is outside*");
        var (none, _) = loss.FindOutliers(embeddings, labels, threshold: Math.PI);
        none.Should().BeEmpty("no angle exceeds π");
    }
}
