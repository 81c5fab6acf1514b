using System;
using System.Linq;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Losses;

public sealed class ContrastiveLossTests
{
    /// <summary>The formula written out in doubles, independently of the implementation.</summary>
    private static double Expected(float[] d, float[] y, double margin) =>
        d.Select((di, i) => y[i] * di * (double)di + (1 - y[i]) * Math.Pow(Math.Max(margin - di, 0), 2)).Average();

    public static TheoryData<float[], float[], double> Batches => new()
    {
        // mixed: a close positive, a close negative, a negative beyond the margin, a positive at distance 0
        { new[] { 0.2f, 0.7f, 1.5f, 0f }, new[] { 1f, 0f, 0f, 1f }, 1.0 },
        // all positive: mean of d^2
        { new[] { 0.1f, 0.5f, 2f }, new[] { 1f, 1f, 1f }, 1.0 },
        // all negative, one at distance 0 and one exactly at the margin
        { new[] { 0f, 0.4f, 1f }, new[] { 0f, 0f, 0f }, 1.0 },
        // a larger margin
        { new[] { 0.5f, 1.5f, 2.5f }, new[] { 0f, 0f, 1f }, 2.0 },
    };

    [Theory]
    [MemberData(nameof(Batches))]
    public void Compute_matches_the_formula(float[] d, float[] y, double margin)
    {
        using var distances = Tensors.Vector(d);
        using var labels = Tensors.Vector(y);

        using var loss = new ContrastiveLoss(margin).Compute(distances, labels);

        loss.dim().Should().Be(0);
        loss.item<float>().Should().BeApproximately((float)Expected(d, y, margin), 1e-6f);
    }

    [Fact]
    public void A_negative_pair_beyond_the_margin_costs_nothing_and_gets_no_gradient()
    {
        using var distances = Tensors.Vector(1.2f, 3f).requires_grad_();
        using var labels = Tensors.Vector(0f, 0f);

        using var loss = new ContrastiveLoss().Compute(distances, labels);
        loss.backward();

        loss.item<float>().Should().Be(0f);
        Tensors.Values(distances.grad!).Should().Equal(0f, 0f);
    }

    [Fact]
    public void Gradients_match_the_derivative_of_the_formula()
    {
        // dL/dd_i = (2 d_i y_i - 2 (1 - y_i) max(m - d_i, 0)) / N
        var d = new[] { 0.3f, 0.6f, 0f, 1.4f };
        var y = new[] { 1f, 0f, 0f, 1f };
        using var distances = Tensors.Vector(d).requires_grad_();
        using var labels = Tensors.Vector(y);

        new ContrastiveLoss().Compute(distances, labels).backward();

        var grad = Tensors.Values(distances.grad!);
        for (int i = 0; i < d.Length; i++)
        {
            double expected = (2 * d[i] * y[i] - 2 * (1 - y[i]) * Math.Max(1 - d[i], 0)) / d.Length;
            grad[i].Should().BeApproximately((float)expected, 1e-6f, $"pair {i}");
        }
    }

    [Fact]
    public void Gradients_reaching_the_embeddings_are_finite_when_a_pair_is_identical()
    {
        using var a = Tensors.Rows(new[] { 1f, 2f }, new[] { 0f, 0f }).requires_grad_();
        using var b = Tensors.Rows(new[] { 1f, 2f }, new[] { 0f, 0f }).requires_grad_();
        using var labels = Tensors.Vector(1f, 0f);

        new ContrastiveLoss().Compute(new EuclideanDistance().Compute(a, b), labels).backward();

        Tensors.Values(a.grad!).Should().OnlyContain(g => float.IsFinite(g));
        Tensors.Values(b.grad!).Should().OnlyContain(g => float.IsFinite(g));
    }

    [Fact]
    public void Boolean_labels_give_the_same_loss_as_float_labels()
    {
        using var distances = Tensors.Vector(0.2f, 0.7f);
        using var floats = Tensors.Vector(1f, 0f);
        using var bools = tensor(new[] { true, false });

        var loss = new ContrastiveLoss();

        loss.Compute(distances, bools).item<float>().Should().Be(loss.Compute(distances, floats).item<float>());
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(0.0)]
    [InlineData(double.PositiveInfinity)]
    public void A_margin_that_is_not_positive_and_finite_is_refused(double margin)
    {
        var act = () => new ContrastiveLoss(margin);

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("margin").WithMessage("*margin*");
    }

    [Fact]
    public void An_empty_batch_is_refused()
    {
        using var distances = zeros(0);
        using var labels = zeros(0);

        var act = () => new ContrastiveLoss().Compute(distances, labels);

        act.Should().Throw<ArgumentException>().WithMessage("*empty batch*");
    }

    [Fact]
    public void Labels_of_another_length_are_refused()
    {
        using var distances = zeros(4);
        using var labels = zeros(3);

        var act = () => new ContrastiveLoss().Compute(distances, labels);

        act.Should().Throw<ArgumentException>().WithMessage("*[4]*[3]*");
    }

    [Fact]
    public void Distances_shaped_like_a_column_are_refused()
    {
        using var distances = zeros(4, 1);
        using var labels = zeros(4);

        var act = () => new ContrastiveLoss().Compute(distances, labels);

        act.Should().Throw<ArgumentException>().WithParameterName("distances");
    }
}
