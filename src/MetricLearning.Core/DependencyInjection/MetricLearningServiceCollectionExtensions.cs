using System;
using MetricLearning;
using MetricLearning.Components;
using MetricLearning.Data;
using MetricLearning.DependencyInjection;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Training;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

// In this namespace so that AddMetricLearning is found without an extra using, as Microsoft.Extensions does.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers MetricLearning's seams and trainers in a service collection.</summary>
public static class MetricLearningServiceCollectionExtensions
{
    /// <summary>
    /// Registers, each only if not registered before (TryAdd): <see cref="IEmbeddingNetwork"/>
    /// (<see cref="MlpEmbeddingNetwork"/> built from the options, scoped: one per training job), <see cref="SiameseNetwork"/>
    /// (scoped, on that network), <see cref="IDistance"/> (<see cref="EuclideanDistance"/>), <see cref="ILoss"/>
    /// (<see cref="ContrastiveLoss"/>), <see cref="IPairSampler"/> (<see cref="AlternatingPairSampler"/>),
    /// <see cref="SiameseTrainer"/>, <see cref="IBatchLoss"/> (the loss <see cref="MetricLearningOptions.BatchLoss"/>
    /// names, from <see cref="LossCatalogue"/>: <see cref="MultiSimilarityLoss"/> with its defaults unless configured
    /// otherwise), <see cref="MPerClassSampler"/> and <see cref="EmbeddingTrainer"/> (with the registered
    /// <see cref="IMiner"/>, or else the miner the options name: none by default), all transient unless said otherwise; and <see cref="MetricLearningOptions"/> as
    /// <c>IOptions&lt;MetricLearningOptions&gt;</c>, validated. The builder swaps seams and adds a saved model and index.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Options can also come from configuration:
    /// <c>services.Configure&lt;MetricLearningOptions&gt;(configuration.GetSection("MetricLearning"))</c>. Whatever
    /// sets them, they are validated when first read (at start, in a host, through <c>ValidateOnStart</c>), and the
    /// error names the option.
    /// </para>
    /// <para>
    /// Calling this again is allowed: services registered by the first call (or by you, before it) are kept, and the
    /// new <paramref name="configure"/> runs after the earlier ones, so the last value set for an option wins.
    /// </para>
    /// </remarks>
    /// <param name="services">The collection to add to.</param>
    /// <param name="configure">Adjusts the options; null keeps the reference experiment's.</param>
    /// <returns>A builder to swap in other implementations.</returns>
    /// <exception cref="ArgumentException">
    /// The options <paramref name="configure"/> sets are invalid (for example a margin that is not positive or a batch
    /// size of 0): checked here, before the container is built, and the message names the option.
    /// </exception>
    public static MetricLearningBuilder AddMetricLearning(this IServiceCollection services, Action<MetricLearningOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (configure is not null)
        {
            // Fail fast on what the code sets; configuration bound later is validated when the options are read.
            var check = new MetricLearningOptions();
            configure(check);
            check.Validate();
        }

        var builder = services.AddOptions<MetricLearningOptions>().ValidateOnStart();
        if (configure is not null)
            builder.Configure(configure);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MetricLearningOptions>, MetricLearningOptionsValidator>());

        services.TryAddTransient(provider => provider.GetRequiredService<IOptions<MetricLearningOptions>>().Value);
        services.TryAddScoped<IEmbeddingNetwork>(provider => new MlpEmbeddingNetwork(Options(provider).Network));
        services.TryAddScoped(provider => new SiameseNetwork(provider.GetRequiredService<IEmbeddingNetwork>(), provider.GetRequiredService<IDistance>()));
        services.TryAddTransient<IDistance>(provider => new EuclideanDistance(Options(provider).DistanceFloor));
        services.TryAddTransient<ILoss>(provider => new ContrastiveLoss(Options(provider).Margin));
        services.TryAddTransient<IPairSampler>(provider => new AlternatingPairSampler(Options(provider).SamplerSeed));
        // The trainers log through the app's logging when it has one (ILoggerFactory registered), and to nowhere otherwise.
        services.TryAddTransient(provider => new SiameseTrainer(
            provider.GetRequiredService<ILoss>(), Options(provider).Trainer, provider.GetRequiredService<IPairSampler>())
        {
            Logger = provider.GetService<ILoggerFactory>()?.CreateLogger<SiameseTrainer>() ?? (ILogger)NullLogger.Instance,
        });
        services.TryAddTransient<IBatchLoss>(provider => CatalogueLoss(Options(provider), provider.GetService<IReducer>()));
        services.TryAddTransient(provider =>
        {
            var trainer = Options(provider).EmbeddingTrainer;
            return new MPerClassSampler(trainer.SamplesPerClass, trainer.BatchSize, trainer.Seed);
        });
        services.TryAddTransient(provider => new EmbeddingTrainer(
            provider.GetRequiredService<IBatchLoss>(), Options(provider).EmbeddingTrainer, provider.GetService<IMiner>() ?? CatalogueMiner(Options(provider)))
        {
            Logger = provider.GetService<ILoggerFactory>()?.CreateLogger<EmbeddingTrainer>() ?? (ILogger)NullLogger.Instance,
        });
        return new MetricLearningBuilder(services);
    }

    /// <summary>The loss the options name, from the catalogue, with the registered reducer or else the one the options name.</summary>
    private static IBatchLoss CatalogueLoss(MetricLearningOptions options, IReducer? registered)
    {
        var batch = options.BatchLoss;
        long width = batch.EmbeddingSize > 0 ? batch.EmbeddingSize : options.Network.LayerSizes[^1];
        var reducer = registered ?? ReducerCatalogue.Create(batch.Reducer, batch.ReducerLow, batch.ReducerHigh);
        return LossCatalogue.Create(batch.Loss, new LossContext(batch.Classes, width, Seed: batch.Seed ?? options.EmbeddingTrainer.Seed), reducer);
    }

    /// <summary>The miner the options name, from the catalogue; null for none.</summary>
    private static IMiner? CatalogueMiner(MetricLearningOptions options)
    {
        var batch = options.BatchLoss;
        string name = MinerCatalogue.Resolve(batch.Miner, batch.Loss);
        return MinerCatalogue.Create(name, LossCatalogue.ComparisonFor(batch.Loss), batch.Seed ?? options.EmbeddingTrainer.Seed);
    }

    private static MetricLearningOptions Options(IServiceProvider provider) => provider.GetRequiredService<IOptions<MetricLearningOptions>>().Value;
}
