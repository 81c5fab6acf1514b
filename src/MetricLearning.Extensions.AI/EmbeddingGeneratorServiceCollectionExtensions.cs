using System;
using System.IO;
using MetricLearning.Extensions.AI;
using MetricLearning.Models;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a saved MetricLearning model as the app's <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>.</summary>
public static class EmbeddingGeneratorServiceCollectionExtensions
{
    /// <summary>
    /// Registers, as singletons: the <see cref="TrainedModel"/> saved in <paramref name="modelFolder"/> (loaded on first
    /// use), an <see cref="EmbeddingBatcher"/> over it, and a <see cref="TrainedModelEmbeddingGenerator"/> as
    /// <c>IEmbeddingGenerator&lt;float[], Embedding&lt;float&gt;&gt;</c>, its model id the folder's name. The container
    /// disposes them in the right order. Registering a second model this way replaces nothing: the first stays.
    /// </summary>
    /// <param name="services">The app's services.</param>
    /// <param name="modelFolder">A folder written by <see cref="TrainedModel.Save"/>.</param>
    /// <param name="configure">Adjusts the batching; null for the defaults.</param>
    /// <param name="components">Formats and factories for parts of your own the model names; null if it has none.</param>
    /// <returns>The same services.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist (checked at registration, so a typo fails at start).</exception>
    public static IServiceCollection AddTrainedModelEmbeddingGenerator(
        this IServiceCollection services,
        string modelFolder,
        Action<EmbeddingBatcherOptions>? configure = null,
        ModelComponents? components = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelFolder);
        string folder = Path.GetFullPath(modelFolder);
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"No model folder at '{folder}'.");
        var options = new EmbeddingBatcherOptions();
        configure?.Invoke(options);
        options.Validate();
        services.TryAddSingleton(_ => components is null ? TrainedModel.Load(folder) : TrainedModel.Load(folder, components));
        services.TryAddSingleton(provider => new EmbeddingBatcher(provider.GetRequiredService<TrainedModel>(), options));
        services.TryAddSingleton<IEmbeddingGenerator<float[], Embedding<float>>>(provider =>
            new TrainedModelEmbeddingGenerator(provider.GetRequiredService<EmbeddingBatcher>(), Path.GetFileName(folder.TrimEnd(Path.DirectorySeparatorChar))));
        return services;
    }
}
