using System;
using FluentAssertions;
using MetricLearning.DependencyInjection;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Sampling;
using MetricLearning.Training;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.DependencyInjection;

public sealed class AddMetricLearningTests
{
    [Fact]
    public void The_defaults_resolve_to_the_reference_implementations()
    {
        using var provider = new ServiceCollection().AddMetricLearning().Services.BuildServiceProvider(validateScopes: true);

        provider.GetRequiredService<IEmbeddingNetwork>().Should().BeOfType<MlpEmbeddingNetwork>()
            .Which.EmbeddingSize.Should().Be(128);
        provider.GetRequiredService<IDistance>().Should().BeOfType<EuclideanDistance>();
        provider.GetRequiredService<ILoss>().Should().BeOfType<ContrastiveLoss>().Which.Margin.Should().Be(1.0);
        provider.GetRequiredService<IPairSampler>().Should().BeOfType<AlternatingPairSampler>();
        provider.GetRequiredService<SiameseNetwork>().Embedding.Should().BeSameAs(provider.GetRequiredService<IEmbeddingNetwork>());
        provider.GetRequiredService<SiameseTrainer>().Options.BatchSize.Should().Be(128);
        provider.GetRequiredService<IBatchLoss>().Should().BeOfType<MultiSimilarityLoss>();
        provider.GetRequiredService<EmbeddingTrainer>().Options.SamplesPerClass.Should().Be(32);
    }

    [Fact]
    public void The_batch_loss_can_be_swapped_and_its_trainer_configured()
    {
        using var provider = new ServiceCollection()
            .AddMetricLearning(o => o.EmbeddingTrainer.SamplesPerClass = 16)
            .UseBatchLoss<ContrastiveBatchLoss>()
            .Services.BuildServiceProvider();

        var trainer = provider.GetRequiredService<EmbeddingTrainer>();
        trainer.Loss.Should().BeOfType<ContrastiveBatchLoss>();
        trainer.Options.SamplesPerClass.Should().Be(16);
    }

    [Fact]
    public void Configured_options_reach_the_services()
    {
        using var provider = new ServiceCollection()
            .AddMetricLearning(o =>
            {
                o.Margin = 2.5;
                o.SamplerSeed = 99;
                o.Trainer.BatchSize = 64;
                o.Network.LayerSizes = new[] { 32, 16 };
            })
            .Services.BuildServiceProvider();

        provider.GetRequiredService<ILoss>().Should().BeOfType<ContrastiveLoss>().Which.Margin.Should().Be(2.5);
        provider.GetRequiredService<IPairSampler>().Should().BeOfType<AlternatingPairSampler>().Which.Seed.Should().Be(99);
        provider.GetRequiredService<SiameseTrainer>().Options.BatchSize.Should().Be(64);
        provider.GetRequiredService<IEmbeddingNetwork>().EmbeddingSize.Should().Be(16);
    }

    [Theory]
    [InlineData("margin")]
    [InlineData("batch")]
    [InlineData("dropout")]
    [InlineData("embedding-batch")]
    public void Invalid_options_are_refused_before_the_container_is_built_naming_the_option(string which)
    {
        Action<MetricLearningOptions> configure = which switch
        {
            "margin" => o => o.Margin = -1,
            "batch" => o => o.Trainer.BatchSize = 0,
            "embedding-batch" => o => o.EmbeddingTrainer.BatchSize = 100,
            _ => o => o.Network.Dropout = 1.5,
        };
        string expected = which switch { "margin" => "*Margin*", "batch" or "embedding-batch" => "*BatchSize*", _ => "*Dropout*" };

        var act = () => new ServiceCollection().AddMetricLearning(configure);

        act.Should().Throw<ArgumentException>().WithMessage(expected);
    }

    [Fact]
    public void The_builder_swaps_in_custom_seams()
    {
        using var provider = new ServiceCollection().AddMetricLearning()
            .UseDistance<ChebyshevDistance>()
            .UseLoss<ZeroLoss>()
            .Services.BuildServiceProvider();

        provider.GetRequiredService<IDistance>().Should().BeOfType<ChebyshevDistance>();
        provider.GetRequiredService<ILoss>().Should().BeOfType<ZeroLoss>();
        provider.GetRequiredService<SiameseNetwork>().Distance.Should().BeOfType<ChebyshevDistance>();
    }

    [Fact]
    public void Services_registered_earlier_are_kept()
    {
        var mine = new ContrastiveLoss(0.25);
        var services = new ServiceCollection().AddSingleton<ILoss>(mine);

        using var provider = services.AddMetricLearning().Services.BuildServiceProvider();

        provider.GetRequiredService<ILoss>().Should().BeSameAs(mine);
    }

    public sealed class ChebyshevDistance : IDistance
    {
        public Tensor Compute(Tensor first, Tensor second) => (first - second).abs().amax(1);

        public Tensor ComputeMatrix(Tensor queries, Tensor references) => (queries.unsqueeze(1) - references.unsqueeze(0)).abs().amax(2);
    }

    public sealed class ZeroLoss : ILoss
    {
        public Tensor Compute(Tensor distances, Tensor sameClass) => distances.sum() * 0;
    }
}
