using System;
using System.Linq;
using MetricLearning.Indexing;
using MetricLearning.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using static TorchSharp.torch;

namespace MetricLearning.DependencyInjection;

/// <summary>Returned by <c>AddMetricLearning</c>: swaps in other implementations of the seams and adds saved models and indexes.</summary>
/// <remarks>
/// <para>
/// Each seam has three overloads (the embedding network two: a type or a factory, each built once per scope, since it
/// holds the weights being trained). <c>UseX&lt;T&gt;()</c> registers a type the container builds on each resolution
/// (transient): one of the library's own is built with its documented defaults (the container never fills its
/// optional parameters, so the distance registered for the pair path cannot leak into a batch loss), one of yours
/// through its constructor with services from the container. <c>UseX(instance)</c> shares one instance as a singleton:
/// it must be safe for everything the container hands it to. <c>UseX(factory)</c> calls your factory on each
/// resolution (transient).
/// </para>
/// <para>Each call replaces the earlier registration of the same seam.</para>
/// </remarks>
public sealed class MetricLearningBuilder
{
    internal MetricLearningBuilder(IServiceCollection services) => Services = services;

    /// <summary>The service collection being configured.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Replaces the embedding network with a type (one per scope: it holds the weights being trained).</summary>
    /// <typeparam name="T">The implementation.</typeparam>
    public MetricLearningBuilder UseEmbeddingNetwork<T>() where T : class, IEmbeddingNetwork
        => Register<IEmbeddingNetwork>(ServiceLifetime.Scoped, Create<T>);

    /// <summary>Replaces the embedding network with a factory (called once per scope).</summary>
    /// <param name="factory">Builds the network.</param>
    public MetricLearningBuilder UseEmbeddingNetwork(Func<IServiceProvider, IEmbeddingNetwork> factory)
        => Register(ServiceLifetime.Scoped, factory);

    /// <summary>Replaces the distance of the pair path with a type.</summary>
    /// <typeparam name="T">The implementation.</typeparam>
    public MetricLearningBuilder UseDistance<T>() where T : class, IDistance => Register<IDistance>(ServiceLifetime.Transient, Create<T>);

    /// <summary>Replaces the distance of the pair path with a shared instance.</summary>
    /// <param name="distance">The distance (the library's are thread-safe).</param>
    public MetricLearningBuilder UseDistance(IDistance distance) => Register(distance);

    /// <summary>Replaces the distance of the pair path with a factory.</summary>
    /// <param name="factory">Builds the distance.</param>
    public MetricLearningBuilder UseDistance(Func<IServiceProvider, IDistance> factory) => Register(ServiceLifetime.Transient, factory);

    /// <summary>Replaces the pair loss with a type.</summary>
    /// <typeparam name="T">The implementation.</typeparam>
    public MetricLearningBuilder UseLoss<T>() where T : class, ILoss => Register<ILoss>(ServiceLifetime.Transient, Create<T>);

    /// <summary>Replaces the pair loss with a shared instance.</summary>
    /// <param name="loss">The loss.</param>
    public MetricLearningBuilder UseLoss(ILoss loss) => Register(loss);

    /// <summary>Replaces the pair loss with a factory.</summary>
    /// <param name="factory">Builds the loss.</param>
    public MetricLearningBuilder UseLoss(Func<IServiceProvider, ILoss> factory) => Register(ServiceLifetime.Transient, factory);

    /// <summary>Replaces the batch loss of <see cref="Training.EmbeddingTrainer"/> with a type.</summary>
    /// <typeparam name="T">The implementation.</typeparam>
    /// <remarks>A loss with settings that have no default (the class count of a proxy loss) needs an instance or a factory.</remarks>
    public MetricLearningBuilder UseBatchLoss<T>() where T : class, IBatchLoss => Register<IBatchLoss>(ServiceLifetime.Transient, Create<T>);

    /// <summary>Replaces the batch loss with a shared instance (for losses with settings, such as <see cref="Losses.ProxyAnchorLoss"/>).</summary>
    /// <param name="loss">The loss, shared by every trainer the container makes; one holding weights must train one run at a time.</param>
    public MetricLearningBuilder UseBatchLoss(IBatchLoss loss) => Register(loss);

    /// <summary>Replaces the batch loss with a factory.</summary>
    /// <param name="factory">Builds the loss.</param>
    public MetricLearningBuilder UseBatchLoss(Func<IServiceProvider, IBatchLoss> factory) => Register(ServiceLifetime.Transient, factory);

    /// <summary>Makes <see cref="Training.EmbeddingTrainer"/> learn from the pairs or triplets a miner of this type picks (by default there is no miner).</summary>
    /// <typeparam name="T">The implementation.</typeparam>
    public MetricLearningBuilder UseMiner<T>() where T : class, IMiner => Register<IMiner>(ServiceLifetime.Transient, Create<T>);

    /// <summary>Makes <see cref="Training.EmbeddingTrainer"/> learn from the pairs or triplets this miner picks.</summary>
    /// <param name="miner">The miner instance, shared (the library's miners are stateless but for the two random ones, whose draws then depend on the order of the runs).</param>
    public MetricLearningBuilder UseMiner(IMiner miner) => Register(miner);

    /// <summary>Makes <see cref="Training.EmbeddingTrainer"/> learn from the pairs or triplets the miner a factory builds picks.</summary>
    /// <param name="factory">Builds the miner.</param>
    public MetricLearningBuilder UseMiner(Func<IServiceProvider, IMiner> factory) => Register(ServiceLifetime.Transient, factory);

    /// <summary>Makes the batch loss built from the options (<see cref="MetricLearningOptions.BatchLoss"/>) reduce with a reducer of this type.</summary>
    /// <typeparam name="T">The implementation.</typeparam>
    /// <remarks>A batch loss registered with <c>UseBatchLoss</c> keeps the reducer it was built with.</remarks>
    public MetricLearningBuilder UseReducer<T>() where T : class, IReducer => Register<IReducer>(ServiceLifetime.Transient, Create<T>);

    /// <summary>Makes the batch loss built from the options reduce with this reducer (for reducers with settings, such as a class-weighted one).</summary>
    /// <param name="reducer">The reducer, shared (the library's reducers are stateless).</param>
    public MetricLearningBuilder UseReducer(IReducer reducer) => Register(reducer);

    /// <summary>Makes the batch loss built from the options reduce with the reducer a factory builds.</summary>
    /// <param name="factory">Builds the reducer.</param>
    public MetricLearningBuilder UseReducer(Func<IServiceProvider, IReducer> factory) => Register(ServiceLifetime.Transient, factory);

    /// <summary>Replaces the pair sampler with a type.</summary>
    /// <typeparam name="T">The implementation.</typeparam>
    public MetricLearningBuilder UsePairSampler<T>() where T : class, IPairSampler => Register<IPairSampler>(ServiceLifetime.Transient, Create<T>);

    /// <summary>Replaces the pair sampler with a shared instance.</summary>
    /// <param name="sampler">The sampler; it must be safe to share (the library's are: they keep no state between calls).</param>
    public MetricLearningBuilder UsePairSampler(IPairSampler sampler) => Register(sampler);

    /// <summary>Replaces the pair sampler with a factory.</summary>
    /// <param name="factory">Builds the sampler.</param>
    public MetricLearningBuilder UsePairSampler(Func<IServiceProvider, IPairSampler> factory) => Register(ServiceLifetime.Transient, factory);

    /// <summary>
    /// Registers a <see cref="TrainedModel"/> saved by <see cref="TrainedModel.Save"/>, loaded from
    /// <paramref name="folder"/> the first time it is resolved: a singleton the container disposes, safe to call from
    /// many threads at once.
    /// </summary>
    /// <param name="folder">The folder holding <c>model.json</c> and <c>weights.bin</c>.</param>
    /// <param name="components">Formats and factories for the model's parts of your own (network, distance, preprocessing); null when all are the library's.</param>
    /// <param name="device">Where to put the weights; the CPU if null.</param>
    /// <exception cref="ArgumentException"><paramref name="folder"/> is empty.</exception>
    /// <remarks>A missing or incompatible model is reported when the model is first resolved, by <see cref="TrainedModel.Load(string, ModelComponents, Device?)"/>.</remarks>
    public MetricLearningBuilder UseSavedModel(string folder, ModelComponents? components = null, Device? device = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        Services.Replace(ServiceDescriptor.Singleton(_ => components is null ? TrainedModel.Load(folder, device) : TrainedModel.Load(folder, components, device)));
        return this;
    }

    /// <summary>
    /// Registers an <see cref="EmbeddingIndex"/> saved by <see cref="EmbeddingIndex.Save"/>, loaded from
    /// <paramref name="path"/> the first time it is resolved: a singleton the container disposes, safe to search from
    /// many threads at once. It searches with the distance it was saved with; when a <see cref="TrainedModel"/> is
    /// registered too (see <see cref="UseSavedModel"/>), loading checks that the model's distance is that one.
    /// </summary>
    /// <param name="path">The index file.</param>
    /// <param name="components">Formats and factories for a distance of your own; null when it is the library's or comes from the registered model.</param>
    /// <param name="device">Where to put the embeddings; the CPU if null.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    public MetricLearningBuilder UseSavedIndex(string path, ModelComponents? components = null, Device? device = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Services.Replace(ServiceDescriptor.Singleton(provider => provider.GetService<TrainedModel>() is { } model
            ? EmbeddingIndex.Load(path, model.Distance, device)
            : components is null ? EmbeddingIndex.Load(path, device) : EmbeddingIndex.Load(path, components, device)));
        return this;
    }

    /// <summary>
    /// Builds <typeparamref name="T"/>: one of the library's own types with its documented defaults (the container
    /// would otherwise fill its optional parameters, such as a distance, from whatever is registered), one of the
    /// user's through its constructor with services from the container.
    /// </summary>
    internal static T Create<T>(IServiceProvider provider) where T : class
    {
        if (typeof(T).Assembly != typeof(MetricLearningBuilder).Assembly)
            return ActivatorUtilities.CreateInstance<T>(provider);
        var constructor = typeof(T).GetConstructors().FirstOrDefault(c => c.GetParameters().All(p => p.HasDefaultValue))
            ?? throw new InvalidOperationException(
                $"{typeof(T).Name} has settings without defaults ({string.Join(", ", typeof(T).GetConstructors().SelectMany(c => c.GetParameters()).Where(p => !p.HasDefaultValue).Select(p => p.Name).Distinct())}); " +
                $"register it with an instance or a factory, for example UseBatchLoss(new {typeof(T).Name}(...)).");
        return (T)constructor.Invoke(constructor.GetParameters().Select(p => p.DefaultValue).ToArray());
    }

    private MetricLearningBuilder Register<TService>(ServiceLifetime lifetime, Func<IServiceProvider, TService> factory) where TService : class
    {
        ArgumentNullException.ThrowIfNull(factory);
        Services.Replace(new ServiceDescriptor(typeof(TService), provider => factory(provider)
            ?? throw new InvalidOperationException($"The factory registered for {typeof(TService).Name} returned null."), lifetime));
        return this;
    }

    private MetricLearningBuilder Register<TService>(TService instance) where TService : class
    {
        ArgumentNullException.ThrowIfNull(instance);
        Services.Replace(ServiceDescriptor.Singleton(instance));
        return this;
    }
}
