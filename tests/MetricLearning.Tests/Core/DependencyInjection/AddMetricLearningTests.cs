using System;
using FluentAssertions;
using MetricLearning.DependencyInjection;
using MetricLearning.Distances;
using MetricLearning.Indexing;
using MetricLearning.Losses;
using MetricLearning.Mining;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Data;
using MetricLearning.Tests.TestSupport;
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
        using var scope = provider.CreateScope();

        scope.ServiceProvider.GetRequiredService<IEmbeddingNetwork>().Should().BeOfType<MlpEmbeddingNetwork>()
            .Which.EmbeddingSize.Should().Be(128);
        provider.GetRequiredService<IDistance>().Should().BeOfType<EuclideanDistance>();
        provider.GetRequiredService<ILoss>().Should().BeOfType<ContrastiveLoss>().Which.Margin.Should().Be(1.0);
        provider.GetRequiredService<IPairSampler>().Should().BeOfType<AlternatingPairSampler>();
        scope.ServiceProvider.GetRequiredService<SiameseNetwork>().Embedding.Should().BeSameAs(
            scope.ServiceProvider.GetRequiredService<IEmbeddingNetwork>(), "one network per scope");
        provider.GetRequiredService<SiameseTrainer>().Options.BatchSize.Should().Be(128);
        provider.GetRequiredService<IBatchLoss>().Should().BeOfType<MultiSimilarityLoss>();
        provider.GetRequiredService<EmbeddingTrainer>().Options.SamplesPerClass.Should().Be(32);
        provider.GetRequiredService<EmbeddingTrainer>().Miner.Should().BeNull("no miner is registered by default");
        provider.GetService<IMiner>().Should().BeNull();
        provider.GetRequiredService<MPerClassSampler>().BatchSize.Should().Be(320);
    }

    [Fact]
    public void A_batch_loss_instance_with_settings_reaches_the_embedding_trainer()
    {
        using var proxyAnchor = new ProxyAnchorLoss(classes: 10, embeddingSize: 128);
        using var provider = new ServiceCollection().AddMetricLearning().UseBatchLoss(proxyAnchor).Services.BuildServiceProvider();

        provider.GetRequiredService<EmbeddingTrainer>().Loss.Should().BeSameAs(proxyAnchor);
    }

    [Fact]
    public void A_miner_reaches_the_embedding_trainer()
    {
        var miner = new SemiHardMiner(0.3);
        using var byType = new ServiceCollection().AddMetricLearning().UseMiner<BatchHardMiner>().Services.BuildServiceProvider();
        using var byInstance = new ServiceCollection().AddMetricLearning().UseMiner(miner).Services.BuildServiceProvider();

        byType.GetRequiredService<EmbeddingTrainer>().Miner.Should().BeOfType<BatchHardMiner>();
        byInstance.GetRequiredService<EmbeddingTrainer>().Miner.Should().BeSameAs(miner);
    }

    [Fact]
    public void A_saved_model_and_index_are_served_and_the_index_searches_with_the_models_distance()
    {
        using var folder = new TempFolder();
        manual_seed(5);
        using (var model = new TrainedModel(new MlpEmbeddingNetwork(new MlpOptions { InputSize = 4, LayerSizes = new[] { 6, 3 } }), new CosineSimilarity(), 0.7))
        using (var index = new EmbeddingIndex(new CosineSimilarity()))
        using (var points = rand(5, 3))
        {
            model.Save(folder.File("model"));
            index.Add(points, new[] { 1, 2, 3, 4, 5 });
            index.Save(folder.File("index.bin"));
        }

        // The default IDistance is Euclidean; the index must take the model's cosine similarity instead.
        using var provider = new ServiceCollection().AddMetricLearning()
            .UseSavedModel(folder.File("model")).UseSavedIndex(folder.File("index.bin"))
            .Services.BuildServiceProvider();

        var served = provider.GetRequiredService<TrainedModel>();
        served.Threshold.Should().Be(0.7);
        provider.GetRequiredService<EmbeddingIndex>().Should().Match<EmbeddingIndex>(i => i.Count == 5 && i.Distance is CosineSimilarity);
        provider.GetRequiredService<TrainedModel>().Should().BeSameAs(served, "the model is a singleton");
    }

    [Fact]
    public void A_missing_saved_model_is_reported_when_resolved_naming_the_file()
    {
        using var folder = new TempFolder();
        using var provider = new ServiceCollection().AddMetricLearning().UseSavedModel(folder.File("nothing-here")).Services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<TrainedModel>();

        act.Should().Throw<System.IO.FileNotFoundException>().WithMessage("*nothing-here*model.json*");
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
        using var scope = provider.CreateScope();
        scope.ServiceProvider.GetRequiredService<IEmbeddingNetwork>().EmbeddingSize.Should().Be(16);
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
        using var scope = provider.CreateScope();
        scope.ServiceProvider.GetRequiredService<SiameseNetwork>().Distance.Should().BeOfType<ChebyshevDistance>();
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
