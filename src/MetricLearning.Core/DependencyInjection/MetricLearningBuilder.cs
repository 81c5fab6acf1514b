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

    /// <summary>
    /// Makes <see cref="Training.EmbeddingTrainer"/> learn from the pairs or triplets this miner picks (by default
    /// there is no miner and every valid pair or triplet is used).
    /// </summary>
    /// <typeparam name="T">The implementation, constructed by the container.</typeparam>
    public MetricLearningBuilder UseMiner<T>() where T : class, IMiner
        => Replace<IMiner, T>(ServiceLifetime.Singleton);

    /// <summary>Makes <see cref="Training.EmbeddingTrainer"/> learn from the pairs or triplets this miner picks.</summary>
    /// <param name="miner">The miner instance, shared (miners are stateless).</param>
    public MetricLearningBuilder UseMiner(IMiner miner)
    {
        ArgumentNullException.ThrowIfNull(miner);
        Services.Replace(ServiceDescriptor.Singleton(miner));
        return this;
    }

    /// <summary>
    /// Registers a <see cref="Models.TrainedModel"/> with an <see cref="Networks.MlpEmbeddingNetwork"/>, saved by
    /// <see cref="Models.TrainedModel.Save"/>, loaded from <paramref name="folder"/> the first time it is resolved (a
    /// singleton the container disposes), for services that embed or verify.
    /// </summary>
    /// <param name="folder">The folder holding <c>model.json</c> and <c>weights.bin</c>.</param>
    /// <param name="device">Where to put the weights; the CPU if null.</param>
    /// <exception cref="ArgumentException"><paramref name="folder"/> is empty.</exception>
    /// <remarks>A missing or incompatible model is reported when the model is first resolved, by <see cref="Models.TrainedModel.Load(string, TorchSharp.torch.Device?)"/>.</remarks>
    public MetricLearningBuilder UseSavedModel(string folder, TorchSharp.torch.Device? device = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        Services.Replace(ServiceDescriptor.Singleton(_ => Models.TrainedModel.Load(folder, device)));
        return this;
    }

    /// <summary>
    /// Registers a <see cref="Models.TrainedModel"/> with a network of your own, loaded from <paramref name="folder"/>
    /// into the network <paramref name="createNetwork"/> builds, the first time it is resolved (a singleton the
    /// container disposes).
    /// </summary>
    /// <param name="folder">The folder holding <c>model.json</c> and <c>weights.bin</c>.</param>
    /// <param name="createNetwork">Builds the untrained network with the saved architecture.</param>
    /// <param name="device">Where to put the weights; the CPU if null.</param>
    /// <exception cref="ArgumentException"><paramref name="folder"/> is empty.</exception>
    public MetricLearningBuilder UseSavedModel(string folder, Func<IEmbeddingNetwork> createNetwork, TorchSharp.torch.Device? device = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentNullException.ThrowIfNull(createNetwork);
        Services.Replace(ServiceDescriptor.Singleton(_ => Models.TrainedModel.Load(folder, createNetwork, device)));
        return this;
    }

    /// <summary>
    /// Registers an <see cref="Indexing.EmbeddingIndex"/> saved by <see cref="Indexing.EmbeddingIndex.Save"/>, loaded
    /// from <paramref name="path"/> the first time it is resolved (a singleton the container disposes). It searches
    /// with the distance it was saved with; when a <see cref="Models.TrainedModel"/> is registered too (see
    /// <c>UseSavedModel</c>), loading checks that the model's distance is that one.
    /// </summary>
    /// <param name="path">The index file.</param>
    /// <param name="device">Where to put the embeddings; the CPU if null.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    public MetricLearningBuilder UseSavedIndex(string path, TorchSharp.torch.Device? device = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Services.Replace(ServiceDescriptor.Singleton(provider => provider.GetService<Models.TrainedModel>() is { } model
            ? Indexing.EmbeddingIndex.Load(path, model.Distance, device)
            : Indexing.EmbeddingIndex.Load(path, device)));
        return this;
    }

    /// <summary>Replaces the batch loss used by <see cref="Training.EmbeddingTrainer"/> with an instance (for losses with settings, such as <see cref="Losses.ProxyAnchorLoss"/>).</summary>
    /// <param name="loss">The loss, shared by every trainer the container makes.</param>
    public MetricLearningBuilder UseBatchLoss(IBatchLoss loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        Services.Replace(ServiceDescriptor.Singleton(loss));
        return this;
    }

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
