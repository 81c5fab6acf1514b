using System;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MetricLearning.DependencyInjection;

/// <summary>Returned by <c>AddMetricLearning</c>: swaps in custom implementations of the seams.</summary>
public sealed class MetricLearningBuilder
{
    internal MetricLearningBuilder(IServiceCollection services) => Services = services;

    /// <summary>The service collection being configured.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Replaces the embedding network (a singleton: it owns trained weights).</summary>
    /// <typeparam name="T">The implementation, constructed by the container.</typeparam>
    public MetricLearningBuilder UseEmbeddingNetwork<T>() where T : class, IEmbeddingNetwork
        => Replace<IEmbeddingNetwork, T>(ServiceLifetime.Singleton);

    /// <summary>Replaces the distance.</summary>
    /// <typeparam name="T">The implementation, constructed by the container.</typeparam>
    public MetricLearningBuilder UseDistance<T>() where T : class, IDistance
        => Replace<IDistance, T>(ServiceLifetime.Singleton);

    /// <summary>Replaces the loss.</summary>
    /// <typeparam name="T">The implementation, constructed by the container.</typeparam>
    public MetricLearningBuilder UseLoss<T>() where T : class, ILoss
        => Replace<ILoss, T>(ServiceLifetime.Singleton);

    /// <summary>Replaces the batch loss used by <see cref="Training.EmbeddingTrainer"/>.</summary>
    /// <typeparam name="T">The implementation, constructed by the container.</typeparam>
    public MetricLearningBuilder UseBatchLoss<T>() where T : class, IBatchLoss
        => Replace<IBatchLoss, T>(ServiceLifetime.Singleton);

    /// <summary>Replaces the pair sampler.</summary>
    /// <typeparam name="T">The implementation, constructed by the container.</typeparam>
    public MetricLearningBuilder UsePairSampler<T>() where T : class, IPairSampler
        => Replace<IPairSampler, T>(ServiceLifetime.Transient);

    private MetricLearningBuilder Replace<TService, TImplementation>(ServiceLifetime lifetime)
        where TService : class
        where TImplementation : class, TService
    {
        Services.Replace(new ServiceDescriptor(typeof(TService), typeof(TImplementation), lifetime));
        return this;
    }
}
