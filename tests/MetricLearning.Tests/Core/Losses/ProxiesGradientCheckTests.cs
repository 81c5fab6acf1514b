using System;
using System.Linq;
using FluentAssertions;
using MetricLearning.Losses;
using MetricLearning.Tests.TestSupport;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Losses;

/// <summary>
/// CosFace, sub-centre ArcFace, normalized softmax, Proxy-NCA and SoftTriple against a float64 central difference,
/// with respect to the embeddings (<see cref="GradientCheckTests.CheckGradient"/>) and to the loss's own class vectors,
/// at random points, with settings that keep the slopes well away from 0.
/// </summary>
public sealed class ProxiesGradientCheckTests
{
    private const double Step = 1e-6;

    /// <summary>Eight embeddings of four classes, two each.</summary>
    private static readonly long[] Labels = { 0, 0, 1, 1, 2, 2, 3, 3 };

    public static TheoryData<string> Losses => new() { "cosface", "subcenter-arcface", "normalized-softmax", "proxy-nca", "soft-triple" };

    internal static (BatchLoss Loss, Parameter Weights) Create(string name, int classes = 4, long width = 5) => name switch
    {
        "cosface" => new CosFaceLoss(classes, width, margin: 0.3, scale: 4) is var c ? (c, c.Centres) : default,
        "subcenter-arcface" => new SubCenterArcFaceLoss(classes, width, subCentres: 3, margin: 0.3, scale: 4) is var a ? (a, a.Centres) : default,
        "normalized-softmax" => new NormalizedSoftmaxLoss(classes, width, temperature: 0.5) is var n ? (n, n.Centres) : default,
        "proxy-nca" => new ProxyNcaLoss(classes, width, softmaxScale: 2) is var p ? (p, p.Proxies) : default,
        "soft-triple" => new SoftTripleLoss(classes, width, centresPerClass: 3, lambda: 4, gamma: 0.5, margin: 0.1) is var t ? (t, t.Centres) : default,
        _ => throw new ArgumentException($"No loss {name}.", nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Losses))]
    public void Gradients_with_respect_to_the_embeddings_and_the_class_vectors(string name)
    {
        manual_seed(21);
        var (loss, weights) = PmlFixture.WithFloat64Default(() => Create(name));
        using var _ = (IDisposable)loss;
        weights.dtype.Should().Be(ScalarType.Float64);
        using var labels = tensor(Labels);
        using var embeddings = GradientCheckTests.Random(22, Labels.Length, 5);

        GradientCheckTests.CheckGradient(x => loss.Compute(x, labels), embeddings, $"{name}, embeddings");
        CheckWeightGradient(() => loss.Compute(embeddings, labels), weights, $"{name}, class vectors");
    }

    /// <summary>Autograd's gradient with respect to <paramref name="weights"/> against the central difference.</summary>
    private static void CheckWeightGradient(Func<Tensor> f, Parameter weights, string what)
    {
        using var scope = NewDisposeScope();
        weights.grad = null;
        f().backward();
        var analytic = weights.grad!.detach().clone().flatten().data<double>().ToArray();
        var flat = weights.detach().view(-1);
        var numeric = new double[analytic.Length];
        using (no_grad())
        {
            for (int i = 0; i < numeric.Length; i++)
            {
                double original = flat[i].item<double>();
                flat[i] = original + Step;
                double up = f().item<double>();
                flat[i] = original - Step;
                double down = f().item<double>();
                flat[i] = original;
                numeric[i] = (up - down) / (2 * Step);
            }
        }

        analytic.Should().OnlyContain(g => double.IsFinite(g), $"{what}: gradients are finite");
        numeric.Select(Math.Abs).Max().Should().BeGreaterThan(1e-4, $"{what}: the check is not vacuous");
        for (int i = 0; i < numeric.Length; i++)
            analytic[i].Should().BeApproximately(numeric[i], 1e-5 + 1e-4 * Math.Abs(numeric[i]), $"{what}: d/dw[{i}]");
    }
}
