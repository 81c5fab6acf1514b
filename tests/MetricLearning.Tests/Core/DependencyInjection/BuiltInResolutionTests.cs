using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.DependencyInjection;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Mining;
using MetricLearning.Models;
using MetricLearning.Training;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.DependencyInjection;

/// <summary>Every built-in resolves through the container with its documented defaults, and trains.</summary>
public sealed class BuiltInResolutionTests
{
    private const int Classes = 4;
    private const int PerClass = 8;

    /// <summary>Four classes of 4-d points around different centres.</summary>
    private static LabelledData Points()
    {
        var random = new Random(11);
        var rows = new List<float[]>();
        var labels = new List<string>();
        for (int c = 0; c < Classes; c++)
        {
            for (int i = 0; i < PerClass; i++)
            {
                rows.Add(Enumerable.Range(0, 4).Select(d => (d == c ? 3f : 0f) + (float)random.NextDouble()).ToArray());
                labels.Add("class-" + c);
            }
        }

        return LabelledData.FromRows(rows, labels);
    }

    private static void Small(MetricLearningOptions o)
    {
        o.Network.InputSize = 4;
        o.Network.LayerSizes = new[] { 8, 4 };
        o.Trainer.Epochs = 1;
        o.Trainer.BatchSize = 8;
        o.EmbeddingTrainer.Epochs = 1;
        o.EmbeddingTrainer.SamplesPerClass = 4;
        o.EmbeddingTrainer.BatchSize = 16;
        o.EmbeddingTrainer.CollapseSpread = 0;
    }

    public static TheoryData<string, string> PairChoices() => new()
    {
        { nameof(EuclideanDistance), nameof(AlternatingPairSampler) },
        { nameof(SquaredEuclideanDistance), nameof(AlternatingPairSampler) },
        { nameof(LpDistance), nameof(RandomPairSampler) },
        { nameof(CosineDistance), nameof(RandomPairSampler) },
        { nameof(CosineSimilarity), nameof(AlternatingPairSampler) },
        { nameof(DotProductSimilarity), nameof(RandomPairSampler) },
    };

    [Theory]
    [MemberData(nameof(PairChoices))]
    public void The_pair_path_resolves_and_trains_with_each_built_in_distance_and_sampler(string distance, string sampler)
    {
        var builder = new ServiceCollection().AddMetricLearning(Small);
        _ = distance switch
        {
            nameof(EuclideanDistance) => builder.UseDistance<EuclideanDistance>(),
            nameof(SquaredEuclideanDistance) => builder.UseDistance<SquaredEuclideanDistance>(),
            nameof(LpDistance) => builder.UseDistance(_ => new LpDistance(1)),
            nameof(CosineDistance) => builder.UseDistance(new CosineDistance()),
            nameof(CosineSimilarity) => builder.UseDistance<CosineSimilarity>(),
            _ => builder.UseDistance<DotProductSimilarity>(),
        };
        _ = sampler == nameof(RandomPairSampler) ? builder.UsePairSampler(_ => new RandomPairSampler(64, seed: 3)) : builder.UsePairSampler<AlternatingPairSampler>();
        using var provider = builder.Services.BuildServiceProvider(validateScopes: true);
        using var scope = provider.CreateScope();
        using var data = Points();
        manual_seed(1);

        var model = scope.ServiceProvider.GetRequiredService<SiameseNetwork>();
        var trainer = scope.ServiceProvider.GetRequiredService<SiameseTrainer>();
        var reports = trainer.Fit(model, data);

        model.Distance.GetType().Name.Should().Be(distance);
        trainer.Sampler.GetType().Name.Should().Be(sampler);
        scope.ServiceProvider.GetRequiredService<ILoss>().Should().BeOfType<ContrastiveLoss>();
        reports.Should().ContainSingle().Which.Loss.Should().BeGreaterThan(0).And.Match(loss => double.IsFinite(loss));
    }

    public static TheoryData<string, string> BatchChoices()
    {
        var data = new TheoryData<string, string>();
        foreach (var loss in new[] { nameof(MultiSimilarityLoss), nameof(ContrastiveBatchLoss), nameof(TripletMarginLoss), nameof(SupConLoss) })
            foreach (var miner in new[] { "none", nameof(MultiSimilarityMiner), nameof(BatchHardMiner), nameof(SemiHardMiner), nameof(PairMarginMiner) })
                data.Add(loss, miner);
        data.Add(nameof(ProxyAnchorLoss), "none");
        data.Add(nameof(ArcFaceLoss), "none");
        return data;
    }

    [Theory]
    [MemberData(nameof(BatchChoices))]
    public void The_batch_path_resolves_and_trains_with_each_built_in_loss_and_miner(string loss, string miner)
    {
        var builder = new ServiceCollection().AddMetricLearning(Small);
        manual_seed(2);
        using var proxyAnchor = new ProxyAnchorLoss(Classes, embeddingSize: 4);
        using var arcFace = new ArcFaceLoss(Classes, embeddingSize: 4);
        _ = loss switch
        {
            nameof(MultiSimilarityLoss) => builder.UseBatchLoss<MultiSimilarityLoss>(),
            nameof(ContrastiveBatchLoss) => builder.UseBatchLoss<ContrastiveBatchLoss>(),
            nameof(TripletMarginLoss) => builder.UseBatchLoss<TripletMarginLoss>(),
            nameof(SupConLoss) => builder.UseBatchLoss(_ => new SupConLoss()),
            nameof(ProxyAnchorLoss) => builder.UseBatchLoss(proxyAnchor),
            _ => builder.UseBatchLoss(arcFace),
        };
        _ = miner switch
        {
            nameof(MultiSimilarityMiner) => builder.UseMiner<MultiSimilarityMiner>(),
            nameof(BatchHardMiner) => builder.UseMiner<BatchHardMiner>(),
            nameof(SemiHardMiner) => builder.UseMiner(new SemiHardMiner()),
            nameof(PairMarginMiner) => builder.UseMiner(_ => new PairMarginMiner()),
            _ => builder,
        };
        using var provider = builder.Services.BuildServiceProvider(validateScopes: true);
        using var scope = provider.CreateScope();
        using var data = Points();

        var network = scope.ServiceProvider.GetRequiredService<IEmbeddingNetwork>();
        var trainer = scope.ServiceProvider.GetRequiredService<EmbeddingTrainer>();
        var reports = trainer.Fit(network, data);

        trainer.Loss.GetType().Name.Should().Be(loss);
        (trainer.Miner?.GetType().Name ?? "none").Should().Be(miner);
        reports.Should().ContainSingle().Which.Loss.Should().Match(value => double.IsFinite(value));
    }

    [Fact]
    public void Built_ins_resolved_by_type_keep_their_defaults_whatever_distance_the_pair_path_registers()
    {
        // The pair path's distance is Euclidean; the multi-similarity loss and miner are defined on cosine similarity.
        using var provider = new ServiceCollection().AddMetricLearning()
            .UseBatchLoss<MultiSimilarityLoss>().UseMiner<MultiSimilarityMiner>()
            .Services.BuildServiceProvider();

        var trainer = provider.GetRequiredService<EmbeddingTrainer>();

        provider.GetRequiredService<IDistance>().Should().BeOfType<EuclideanDistance>();
        trainer.Loss.Should().BeOfType<MultiSimilarityLoss>().Which.Similarity.Should().BeOfType<CosineSimilarity>();
        trainer.Miner.Should().BeOfType<MultiSimilarityMiner>().Which.Distance.Should().BeOfType<CosineSimilarity>();
    }

    [Fact]
    public void A_built_in_without_defaults_asks_for_an_instance_or_a_factory()
    {
        using var provider = new ServiceCollection().AddMetricLearning().UseBatchLoss<ProxyAnchorLoss>().Services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<EmbeddingTrainer>();

        act.Should().Throw<InvalidOperationException>().WithMessage("*ProxyAnchorLoss*classes*embeddingSize*instance or a factory*");
    }

    /// <summary>A user's own loss asks the container for the pair path's distance.</summary>
    public sealed class UserLoss(IDistance distance) : ILoss
    {
        public IDistance Distance { get; } = distance;

        public Tensor Compute(Tensor distances, Tensor sameClass) => distances.mean();
    }

    [Fact]
    public void A_users_own_type_gets_its_constructor_arguments_from_the_container()
    {
        using var provider = new ServiceCollection().AddMetricLearning().UseDistance<CosineDistance>().UseLoss<UserLoss>().Services.BuildServiceProvider();

        provider.GetRequiredService<ILoss>().Should().BeOfType<UserLoss>().Which.Distance.Should().BeOfType<CosineDistance>();
    }

    [Fact]
    public void Options_bind_from_configuration_and_are_validated_naming_the_option()
    {
        var good = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["MetricLearning:Margin"] = "2.5",
            ["MetricLearning:Trainer:BatchSize"] = "32",
            ["MetricLearning:Trainer:Schedule:Kind"] = "Step",
            ["MetricLearning:Trainer:Schedule:StepEpochs"] = "5",
            ["MetricLearning:EmbeddingTrainer:Optimizer:Kind"] = "Sgd",
            ["MetricLearning:EmbeddingTrainer:Optimizer:LearningRate"] = "0.05",
        }).Build();
        var bad = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["MetricLearning:Trainer:BatchSize"] = "0" }).Build();
        var goodServices = new ServiceCollection();
        goodServices.AddMetricLearning();
        goodServices.Configure<MetricLearningOptions>(good.GetSection("MetricLearning"));
        var badServices = new ServiceCollection();
        badServices.AddMetricLearning();
        badServices.Configure<MetricLearningOptions>(bad.GetSection("MetricLearning"));
        using var goodProvider = goodServices.BuildServiceProvider();
        using var badProvider = badServices.BuildServiceProvider();

        goodProvider.GetRequiredService<ILoss>().Should().BeOfType<ContrastiveLoss>().Which.Margin.Should().Be(2.5);
        goodProvider.GetRequiredService<SiameseTrainer>().Options.BatchSize.Should().Be(32);
        goodProvider.GetRequiredService<SiameseTrainer>().Options.Schedule.Should().BeEquivalentTo(LearningRateSchedule.Step(5));
        goodProvider.GetRequiredService<SiameseTrainer>().Options.Optimizer.Kind.Should().Be(OptimizerKind.RmsProp, "the reference experiment's optimizer stays the default");
        var optimizer = goodProvider.GetRequiredService<EmbeddingTrainer>().Options.Optimizer;
        (optimizer.Kind, optimizer.LearningRate, optimizer.Momentum).Should().Be((OptimizerKind.Sgd, 0.05, 0.9));
        var act = () => badProvider.GetRequiredService<SiameseTrainer>();
        act.Should().Throw<OptionsValidationException>().WithMessage("*TrainerOptions.BatchSize*");
    }

    [Fact]
    public void Calling_AddMetricLearning_twice_keeps_the_services_and_applies_both_configurations_in_order()
    {
        var services = new ServiceCollection();
        services.AddMetricLearning(o => { o.Margin = 2; o.SamplerSeed = 5; }).UseMiner<BatchHardMiner>();
        services.AddMetricLearning(o => o.Margin = 3);
        using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<ILoss>().Should().BeOfType<ContrastiveLoss>().Which.Margin.Should().Be(3, "the later configuration wins");
        provider.GetRequiredService<IPairSampler>().Should().BeOfType<AlternatingPairSampler>().Which.Seed.Should().Be(5, "earlier settings stay");
        provider.GetRequiredService<EmbeddingTrainer>().Miner.Should().BeOfType<BatchHardMiner>();
        services.Count(d => d.ServiceType == typeof(SiameseTrainer)).Should().Be(1);
    }

    [Fact]
    public void Singletons_are_only_what_is_safe_to_share()
    {
        var services = new ServiceCollection();
        services.AddMetricLearning();
        var ours = typeof(IDistance).Assembly;

        var singletons = services.Where(d => d.Lifetime == ServiceLifetime.Singleton && d.ServiceType.Assembly == ours).Select(d => d.ServiceType).ToList();

        singletons.Should().BeEmpty("networks and trainers hold state; they are scoped or transient (saved models and indexes, registered on request, are thread-safe singletons)");
    }
}
