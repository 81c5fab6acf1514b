using System;
using System.Linq;
using FluentAssertions;
using MetricLearning.Tests.TestSupport;
using MetricLearning.Training;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Training;

/// <summary>
/// Each optimizer's first steps against the update rule worked out by hand from its paper or PyTorch's docs, on
/// <c>loss = Σ c·θ</c>, whose gradient is <c>c</c> whatever θ is.
/// </summary>
public sealed class OptimizerFactoryTests
{
    private static readonly float[] Start = { 1f, -2f, 0.5f };
    private static readonly float[] Slope = { 0.3f, -1.5f, 2f };

    private static Parameter NewParameter() => new(tensor(Start));

    private static void Step(IStepOptimizer optimizer, params Parameter[] parameters)
    {
        optimizer.ZeroGrad();
        using var slope = tensor(Slope);
        parameters.Select(p => (p * slope).sum()).Aggregate((a, b) => a + b).backward();
        optimizer.Step();
    }

    private static double[] Expected(Func<double, double, double> rule) =>
        Start.Zip(Slope, (theta, g) => rule(theta, g)).ToArray();

    private static void ShouldBe(Parameter parameter, double[] expected) =>
        Tensors.Values(parameter).Select(v => (double)v).Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-6);

    [Fact]
    public void RmsProp_fast_path_takes_one_step_by_the_formula()
    {
        var theta = NewParameter();
        using var optimizer = OptimizerFactory.Create(OptimizerSettings.RmsProp(learningRate: 0.1, rho: 0.9, epsilon: 1e-7), new[] { new ParameterGroup("all", new[] { theta }) });

        Step(optimizer, theta);

        optimizer.Should().BeOfType<RmsPropOptimizer>();
        ShouldBe(theta, Expected((t, g) => t - 0.1 * g / (Math.Sqrt(0.1 * g * g) + 1e-7)));
    }

    [Fact]
    public void RmsProp_with_two_groups_gives_each_its_own_rate()
    {
        var slow = NewParameter();
        var fast = NewParameter();
        var groups = new[] { new ParameterGroup("slow", new[] { slow }), new ParameterGroup("fast", new[] { fast }, learningRateScale: 10) };
        using var optimizer = OptimizerFactory.Create(OptimizerSettings.RmsProp(learningRate: 0.01), groups);

        Step(optimizer, slow, fast);

        optimizer.Should().BeOfType<TorchOptimizer>();
        ShouldBe(slow, Expected((t, g) => t - 0.01 * g / (Math.Sqrt(0.1 * g * g) + 1e-7)));
        ShouldBe(fast, Expected((t, g) => t - 0.1 * g / (Math.Sqrt(0.1 * g * g) + 1e-7)));
    }

    [Fact]
    public void Adam_first_step_moves_each_weight_by_the_learning_rate_against_its_gradient_sign()
    {
        // Bias-corrected moments after one step are g and g², so the step is lr·g/(|g| + ε).
        var theta = NewParameter();
        using var optimizer = OptimizerFactory.Create(OptimizerSettings.Adam(learningRate: 0.05), new[] { new ParameterGroup("all", new[] { theta }) });

        Step(optimizer, theta);

        ShouldBe(theta, Expected((t, g) => t - 0.05 * g / (Math.Abs(g) + 1e-8)));
    }

    [Fact]
    public void AdamW_decays_the_weights_directly_before_the_adam_step()
    {
        var theta = NewParameter();
        using var optimizer = OptimizerFactory.Create(OptimizerSettings.AdamW(learningRate: 0.05, weightDecay: 0.2), new[] { new ParameterGroup("all", new[] { theta }) });

        Step(optimizer, theta);

        ShouldBe(theta, Expected((t, g) => t * (1 - 0.05 * 0.2) - 0.05 * g / (Math.Abs(g) + 1e-8)));
    }

    [Fact]
    public void Sgd_with_momentum_accumulates_the_gradient_over_two_steps()
    {
        // Step 1: buffer = g; θ −= lr·g. Step 2: buffer = μ·g + g; θ −= lr·(1 + μ)·g.
        var theta = NewParameter();
        using var optimizer = OptimizerFactory.Create(OptimizerSettings.Sgd(learningRate: 0.1, momentum: 0.5), new[] { new ParameterGroup("all", new[] { theta }) });

        Step(optimizer, theta);
        Step(optimizer, theta);

        ShouldBe(theta, Expected((t, g) => t - 0.1 * g - 0.1 * 1.5 * g));
    }

    [Fact]
    public void Sgd_with_nesterov_momentum_looks_ahead_on_the_first_step()
    {
        // Step 1: buffer = g; the update is g + μ·buffer = (1 + μ)·g.
        var theta = NewParameter();
        using var optimizer = OptimizerFactory.Create(OptimizerSettings.Sgd(learningRate: 0.1, momentum: 0.5, nesterov: true), new[] { new ParameterGroup("all", new[] { theta }) });

        Step(optimizer, theta);

        ShouldBe(theta, Expected((t, g) => t - 0.1 * 1.5 * g));
    }

    [Fact]
    public void Sgd_weight_decay_adds_the_weights_to_the_gradient()
    {
        var theta = NewParameter();
        using var optimizer = OptimizerFactory.Create(OptimizerSettings.Sgd(learningRate: 0.1, momentum: 0, weightDecay: 0.5), new[] { new ParameterGroup("all", new[] { theta }) });

        Step(optimizer, theta);

        ShouldBe(theta, Expected((t, g) => t - 0.1 * (g + 0.5 * t)));
    }

    [Fact]
    public void Kind_defaults_fill_in_epsilon_and_weight_decay_only_when_they_are_not_set()
    {
        new OptimizerSettings { Kind = OptimizerKind.RmsProp }.EffectiveEpsilon.Should().Be(1e-7);
        new OptimizerSettings { Kind = OptimizerKind.Adam }.EffectiveEpsilon.Should().Be(1e-8);
        new OptimizerSettings { Kind = OptimizerKind.AdamW }.EffectiveWeightDecay.Should().Be(0.01);
        new OptimizerSettings { Kind = OptimizerKind.Adam }.EffectiveWeightDecay.Should().Be(0);
        new OptimizerSettings { Kind = OptimizerKind.AdamW, WeightDecay = 0 }.EffectiveWeightDecay.Should().Be(0);
        new OptimizerSettings { Kind = OptimizerKind.Adam, Epsilon = 1e-6 }.EffectiveEpsilon.Should().Be(1e-6);
    }

    [Theory]
    [InlineData(nameof(OptimizerSettings.LearningRate))]
    [InlineData(nameof(OptimizerSettings.Rho))]
    [InlineData(nameof(OptimizerSettings.Beta2))]
    [InlineData(nameof(OptimizerSettings.Momentum))]
    [InlineData(nameof(OptimizerSettings.WeightDecay))]
    [InlineData(nameof(OptimizerSettings.Epsilon))]
    public void A_bad_setting_is_refused_naming_it_with_its_owner(string setting)
    {
        var options = setting switch
        {
            nameof(OptimizerSettings.LearningRate) => new OptimizerSettings { LearningRate = 0 },
            nameof(OptimizerSettings.Rho) => new OptimizerSettings { Kind = OptimizerKind.RmsProp, Rho = 1 },
            nameof(OptimizerSettings.Beta2) => new OptimizerSettings { Kind = OptimizerKind.AdamW, Beta2 = -0.1 },
            nameof(OptimizerSettings.Momentum) => new OptimizerSettings { Kind = OptimizerKind.Sgd, Momentum = 1.5 },
            nameof(OptimizerSettings.WeightDecay) => new OptimizerSettings { WeightDecay = -1 },
            _ => new OptimizerSettings { Epsilon = double.NaN },
        };
        var trainer = new TrainerOptions { Optimizer = options };

        trainer.Invoking(t => t.Validate()).Should().Throw<ArgumentOutOfRangeException>().WithMessage($"TrainerOptions.Optimizer.{setting} *");
        new OptimizerSettings { Kind = OptimizerKind.Adam, Rho = 1 }.Invoking(o => o.Validate()).Should().NotThrow("RMSprop's rho does not apply to Adam");
    }
}
