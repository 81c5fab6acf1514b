using System;
using System.Linq;
using FluentAssertions;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Networks;

public sealed class FastDropoutTests
{
    [Fact]
    public void Training_mode_drops_about_p_and_scales_the_rest_by_one_over_one_minus_p()
    {
        using var dropout = new FastDropout(0.25);
        dropout.train();
        using var input = ones(200, 500);

        var values = Tensors.Values(dropout.call(input));

        double dropped = values.Count(v => v == 0f) / (double)values.Length;
        // 100,000 Bernoulli(0.25) draws: standard deviation 0.0014, so 0.01 is seven of them.
        dropped.Should().BeApproximately(0.25, 0.01);
        values.Where(v => v != 0f).Should().OnlyContain(v => Math.Abs(v - 1f / 0.75f) < 1e-6f);
    }

    [Fact]
    public void Evaluation_mode_passes_the_input_through()
    {
        using var dropout = new FastDropout(0.5);
        dropout.eval();
        using var input = randn(3, 4);

        Tensors.Values(dropout.call(input)).Should().Equal(Tensors.Values(input));
    }

    [Fact]
    public void Masks_follow_torchs_seed()
    {
        using var dropout = new FastDropout(0.5);
        dropout.train();
        using var input = ones(64);

        manual_seed(4);
        var first = Tensors.Values(dropout.call(input));
        var next = Tensors.Values(dropout.call(input));
        manual_seed(4);
        var again = Tensors.Values(dropout.call(input));

        again.Should().Equal(first);
        next.Should().NotEqual(first, "each call draws a new mask");
    }

    [Fact]
    public void Gradients_flow_only_through_kept_elements()
    {
        using var dropout = new FastDropout(0.5);
        dropout.train();
        using var input = ones(1000).requires_grad_();

        var output = dropout.call(input);
        output.sum().backward();

        var kept = Tensors.Values(output).Select(v => v != 0f).ToArray();
        var grad = Tensors.Values(input.grad!);
        for (int i = 0; i < grad.Length; i++)
            grad[i].Should().Be(kept[i] ? 2f : 0f);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    public void A_probability_outside_zero_to_one_is_refused(double p)
    {
        var act = () => new FastDropout(p);

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("probability");
    }
}
