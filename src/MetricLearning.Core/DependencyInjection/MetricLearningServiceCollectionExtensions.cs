using System;
using MetricLearning;
using MetricLearning.DependencyInjection;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Data;
using MetricLearning.Training;
using Microsoft.Extensions.DependencyInjection.Extensions;

// In this namespace so that AddMetricLearning is found without an extra using, as Microsoft.Extensions does.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers MetricLearning's seams and trainer in a service collection.</summary>
public static class MetricLearningServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IEmbeddingNetwork"/> (<see cref="MlpEmbeddingNetwork"/>, singleton), <see cref="IDistance"/>
    /// (<see cref="EuclideanDistance"/>), <see cref="ILoss"/> (<see cref="ContrastiveLoss"/>), <see cref="IPairSampler"/>
    /// (<see cref="AlternatingPairSampler"/>), <see cref="SiameseNetwork"/>, <see cref="SiameseTrainer"/>,
    /// <see cref="IBatchLoss"/> (<see cref="MultiSimilarityLoss"/>), <see cref="MPerClassSampler"/> and
    /// <see cref="EmbeddingTrainer"/> (with the registered <see cref="IMiner"/>, if any: none by default), and the
    /// validated <see cref="MetricLearningOptions"/>. Services registered before this call are kept (TryAdd). The
    /// builder adds a miner, a saved model and a saved index.
    /// </summary>
    /// <param name="services">The collection to add to.</param>
    /// <param name="configure">Adjusts the options; null keeps the reference experiment's.</param>
    /// <returns>A builder to swap in custom implementations.</returns>
    /// <exception cref="ArgumentException">
    /// The configured options are invalid (for example a margin that is not positive or a batch size of 0); they are
    /// validated here, before the container is built, and the message names the option.
    /// </exception>
    public static MetricLearningBuilder AddMetricLearning(this IServiceCollection services, Action<MetricLearningOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new MetricLearningOptions();
        configure?.Invoke(options);
        options.Validate();

        services.TryAddSingleton(options);
        services.TryAddSingleton<IEmbeddingNetwork>(provider => new MlpEmbeddingNetwork(provider.GetRequiredService<MetricLearningOptions>().Network));
        services.TryAddSingleton<IDistance>(provider => new EuclideanDistance(provider.GetRequiredService<MetricLearningOptions>().DistanceFloor));
        services.TryAddSingleton<ILoss>(provider => new ContrastiveLoss(provider.GetRequiredService<MetricLearningOptions>().Margin));
        services.TryAddTransient<IPairSampler>(provider => new AlternatingPairSampler(provider.GetRequiredService<MetricLearningOptions>().SamplerSeed));
        services.TryAddSingleton(provider => new SiameseNetwork(provider.GetRequiredService<IEmbeddingNetwork>(), provider.GetRequiredService<IDistance>()));
        services.TryAddTransient(provider => new SiameseTrainer(provider.GetRequiredService<ILoss>(), provider.GetRequiredService<MetricLearningOptions>().Trainer));
        services.TryAddSingleton<IBatchLoss>(_ => new MultiSimilarityLoss());
        services.TryAddTransient(provider =>
        {
            var trainer = provider.GetRequiredService<MetricLearningOptions>().EmbeddingTrainer;
            return new MPerClassSampler(trainer.SamplesPerClass, trainer.BatchSize, trainer.Seed);
        });
        services.TryAddTransient(provider => new EmbeddingTrainer(
            provider.GetRequiredService<IBatchLoss>(),
            provider.GetRequiredService<MetricLearningOptions>().EmbeddingTrainer,
            provider.GetService<IMiner>()));
        return new MetricLearningBuilder(services);
    }
}
