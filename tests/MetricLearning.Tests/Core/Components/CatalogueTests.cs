using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using MetricLearning.Components;
using MetricLearning.DependencyInjection;
using MetricLearning.Losses;
using MetricLearning.Mining;
using MetricLearning.Reducers;
using MetricLearning.Training;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Components;

/// <summary>Losses, miners and reducers chosen by name: each name builds its class, and the result trains.</summary>
public sealed class CatalogueTests
{
    public static TheoryData<string> LossNames() => new(LossCatalogue.Names);

    public static TheoryData<string> MinerNames() => new(MinerCatalogue.Names);

    /// <summary>Eight 16-d embeddings of four classes, two each, far apart, in float32.</summary>
    private static (Tensor Embeddings, Tensor Labels) Batch()
    {
        manual_seed(3);
        var labels = tensor(new long[] { 0, 0, 1, 1, 2, 2, 3, 3, 0, 1, 2, 3 });
        var centres = randn(4, 16) * 2;
        return (centres.index_select(0, labels) + randn(12, 16) * 0.5, labels);
    }

    [Theory]
    [MemberData(nameof(LossNames))]
    public void Every_loss_name_builds_a_loss_that_gives_a_finite_value_and_gradient(string name)
    {
        using var scope = NewDisposeScope();
        var (embeddings, labels) = Batch();
        var loss = LossCatalogue.Create(name, new LossContext(Classes: 4, EmbeddingSize: 16));
        using var owned = loss as IDisposable;
        var comparison = LossCatalogue.ComparisonFor(name);
        using var mined = LossCatalogue.PaperMinerFor(name) is { } minerName ? MinerCatalogue.Create(minerName, comparison, seed: 1)!.Mine(embeddings, labels) : null;
        var x = embeddings.detach().requires_grad_(true);

        var value = loss.Compute(x, labels, mined);
        value.backward();

        double.IsFinite(value.item<float>()).Should().BeTrue($"{name} gives a finite loss");
        x.grad.Should().NotBeNull($"{name} is differentiable with respect to the embeddings");
        x.grad!.isfinite().all().item<bool>().Should().BeTrue($"{name}'s gradient is finite");
        LossCatalogue.Entries.Single(e => e.Name == name).Description.Should().NotBeNullOrWhiteSpace();
    }

    [Theory]
    [MemberData(nameof(MinerNames))]
    public void Every_miner_name_builds_a_miner_that_mines_rows_of_the_batch(string name)
    {
        using var scope = NewDisposeScope();
        var (embeddings, labels) = Batch();
        var miner = MinerCatalogue.Create(name, new MetricLearning.Distances.CosineSimilarity(), seed: 2);
        if (name == "none")
        {
            miner.Should().BeNull();
            return;
        }

        using var mined = miner!.Mine(embeddings, labels);
        mined.BatchSize.Should().Be(12);
    }

    [Fact]
    public void Names_give_the_classes_and_defaults_they_describe()
    {
        LossCatalogue.Names.Should().HaveCountGreaterThanOrEqualTo(24).And.OnlyHaveUniqueItems();
        using (var loss = (IDisposable)LossCatalogue.Create("proxy-anchor", new LossContext(10, 32)))
            loss.Should().BeOfType<ProxyAnchorLoss>().Which.Classes.Should().Be(10);
        LossCatalogue.Create("triplet", new LossContext(2, 8)).Should().BeOfType<TripletMarginLoss>().Which.Reducer.Should().BeOfType<AvgNonZeroReducer>();
        LossCatalogue.Create("triplet", new LossContext(2, 8), new SumReducer()).Should().BeOfType<TripletMarginLoss>().Which.Reducer.Should().BeOfType<SumReducer>();
        LossCatalogue.PaperMinerFor("multi-similarity").Should().Be("multi-similarity");
        LossCatalogue.PaperMinerFor("margin").Should().Be("distance-weighted");
        LossCatalogue.PaperMinerFor("circle").Should().BeNull();
        MinerCatalogue.Create("triplet-semihard", new MetricLearning.Distances.CosineSimilarity()).Should().BeOfType<TripletMarginMiner>().Which.Difficulty.Should().Be(TripletDifficulty.SemiHard);
        ReducerCatalogue.Create("default").Should().BeNull();
        ReducerCatalogue.Create("threshold", high: 0.5).Should().BeOfType<ThresholdReducer>().Which.High.Should().Be(0.5);
    }

    [Fact]
    public void The_class_weighted_reducer_weighs_classes_by_inverse_frequency()
    {
        // Class 0 has 3 of 4 labels, class 1 one: weights N / (classes · count) = 4/6 and 2.
        var reducer = ReducerCatalogue.Create("class-weighted", trainingLabels: new[] { 0, 0, 0, 1 }).Should().BeOfType<ClassWeightedReducer>().Subject;
        reducer.Weights.Should().Equal(4.0 / 6, 2.0);
    }

    [Fact]
    public void Unknown_names_and_missing_settings_are_refused_listing_what_exists()
    {
        FluentActions.Invoking(() => LossCatalogue.Create("tripplet", new LossContext(2, 8))).Should().Throw<ArgumentException>().WithMessage("*no loss named 'tripplet'*multi-similarity*");
        FluentActions.Invoking(() => MinerCatalogue.Create("hard", new MetricLearning.Distances.CosineSimilarity())).Should().Throw<ArgumentException>().WithMessage("*no miner named 'hard'*batch-hard*");
        FluentActions.Invoking(() => ReducerCatalogue.Create("avg")).Should().Throw<ArgumentException>().WithMessage("*no reducer named 'avg'*avg-non-zero*");
        FluentActions.Invoking(() => ReducerCatalogue.Create("threshold")).Should().Throw<ArgumentException>().WithMessage("*low or a high*");
        FluentActions.Invoking(() => ReducerCatalogue.Create("class-weighted")).Should().Throw<ArgumentException>().WithMessage("*training labels*");
        FluentActions.Invoking(() => LossCatalogue.Create("arcface", new LossContext(0, 8))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*two classes*");
    }

    [Fact]
    public void Configuration_chooses_the_loss_miner_and_reducer_of_the_embedding_trainer()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["MetricLearning:BatchLoss:Loss"] = "margin",
            ["MetricLearning:BatchLoss:Miner"] = "auto",
            ["MetricLearning:BatchLoss:Reducer"] = "threshold",
            ["MetricLearning:BatchLoss:ReducerHigh"] = "0.9",
        }).Build();
        var services = new ServiceCollection();
        services.AddMetricLearning();
        services.Configure<MetricLearningOptions>(configuration.GetSection("MetricLearning"));
        using var provider = services.BuildServiceProvider();

        var trainer = provider.GetRequiredService<EmbeddingTrainer>();
        trainer.Loss.Should().BeOfType<MarginLoss>().Which.Reducer.Should().BeOfType<ThresholdReducer>().Which.High.Should().Be(0.9);
        trainer.Miner.Should().BeOfType<DistanceWeightedMiner>("auto is the margin loss's paper's miner");

        var defaults = new ServiceCollection();
        defaults.AddMetricLearning();
        using var defaultProvider = defaults.BuildServiceProvider();
        defaultProvider.GetRequiredService<EmbeddingTrainer>().Loss.Should().BeOfType<MultiSimilarityLoss>();
        defaultProvider.GetRequiredService<EmbeddingTrainer>().Miner.Should().BeNull("no miner unless one is named or registered, as before");

        var withReducer = new ServiceCollection();
        withReducer.AddMetricLearning(o => o.BatchLoss.Loss = "triplet").UseReducer(new ClassWeightedReducer(new[] { 1.0, 2.0 }));
        using var withReducerProvider = withReducer.BuildServiceProvider();
        withReducerProvider.GetRequiredService<EmbeddingTrainer>().Loss.Should().BeOfType<TripletMarginLoss>().Which.Reducer.Should().BeOfType<ClassWeightedReducer>();

        var bad = new ServiceCollection();
        bad.AddMetricLearning();
        bad.Configure<MetricLearningOptions>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["MetricLearning:BatchLoss:Loss"] = "contrastiv" }).Build().GetSection("MetricLearning"));
        using var badProvider = bad.BuildServiceProvider();
        FluentActions.Invoking(() => badProvider.GetRequiredService<IOptions<MetricLearningOptions>>().Value).Should().Throw<OptionsValidationException>().WithMessage("*'contrastiv' is not a loss*");
    }
}
