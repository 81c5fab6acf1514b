using System;
using System.Collections.Generic;
using FluentAssertions;
using MetricLearning.Training;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Training;

public sealed class LearningRateSchedulerTests
{
    private static IStepOptimizer TwoGroups(OptimizerSettings options) => OptimizerFactory.Create(options, new[]
    {
        new ParameterGroup("network", new[] { new Parameter(zeros(3)) }),
        new ParameterGroup("proxies", new[] { new Parameter(zeros(2)) }, learningRateScale: 100),
    });

    private static List<(double Network, double Proxies)> RatesAfterEachEpoch(LearningRateSchedule schedule, int epochs, OptimizerSettings options)
    {
        using var optimizer = TwoGroups(options);
        var scheduler = new LearningRateScheduler(schedule, epochs, optimizer);
        var rates = new List<(double, double)> { (optimizer.GetLearningRate(0), optimizer.GetLearningRate(1)) };
        for (int epoch = 1; epoch < epochs; epoch++)
        {
            scheduler.EpochCompleted(epoch);
            rates.Add((optimizer.GetLearningRate(0), optimizer.GetLearningRate(1)));
        }

        return rates;
    }

    [Theory]
    [InlineData(OptimizerKind.Adam)]
    [InlineData(OptimizerKind.RmsProp)]
    [InlineData(OptimizerKind.Sgd)]
    public void Cosine_follows_the_closed_form_in_every_group(OptimizerKind kind)
    {
        const int Epochs = 6;
        var rates = RatesAfterEachEpoch(LearningRateSchedule.Cosine(), Epochs, new OptimizerSettings { Kind = kind, LearningRate = 0.002 });

        for (int epoch = 0; epoch < Epochs; epoch++)
        {
            double factor = (1 + Math.Cos(Math.PI * epoch / Epochs)) / 2;
            rates[epoch].Network.Should().BeApproximately(0.002 * factor, 1e-15, $"epoch {epoch + 1}");
            rates[epoch].Proxies.Should().BeApproximately(0.2 * factor, 1e-13, $"epoch {epoch + 1}");
        }

        rates[^1].Network.Should().BeLessThan(rates[0].Network / 10, "the rate anneals towards 0");
    }

    [Fact]
    public void Step_multiplies_by_the_factor_every_k_epochs()
    {
        var rates = RatesAfterEachEpoch(LearningRateSchedule.Step(everyEpochs: 2, factor: 0.5), 7, OptimizerSettings.Adam(0.1));

        rates.ConvertAll(r => r.Network).Should().Equal(new[] { 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125 }, (a, b) => Math.Abs(a - b) < 1e-15);
        rates.ConvertAll(r => r.Proxies / r.Network).Should().OnlyContain(ratio => Math.Abs(ratio - 100) < 1e-9);
    }

    [Fact]
    public void Constant_leaves_every_rate_as_set()
    {
        var rates = RatesAfterEachEpoch(LearningRateSchedule.Constant(), 4, OptimizerSettings.Sgd(0.3));

        rates.Should().OnlyContain(r => r.Network == 0.3 && Math.Abs(r.Proxies - 30) < 1e-12);
    }

    [Fact]
    public void A_bad_step_schedule_is_refused_naming_the_setting()
    {
        new EmbeddingTrainerOptions { Schedule = LearningRateSchedule.Step(0) }
            .Invoking(o => o.Validate()).Should().Throw<ArgumentOutOfRangeException>().WithMessage("EmbeddingTrainerOptions.Schedule.StepEpochs *");
        new EmbeddingTrainerOptions { Schedule = LearningRateSchedule.Step(3, factor: 1.5) }
            .Invoking(o => o.Validate()).Should().Throw<ArgumentOutOfRangeException>().WithMessage("EmbeddingTrainerOptions.Schedule.StepFactor *");
    }
}
