using System;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.VectorData;

namespace MetricLearning.VectorData;

/// <summary>Registers a <see cref="FolderVectorStore"/> as the app's <see cref="VectorStore"/>.</summary>
public static class FolderVectorStoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="FolderVectorStore"/> in <paramref name="folder"/> as a singleton <see cref="VectorStore"/>
    /// (and as itself). Unless <paramref name="configure"/> sets one, its embedding generator is the container's
    /// <c>IEmbeddingGenerator&lt;float[], Embedding&lt;float&gt;&gt;</c> (what <c>AddOnnxEmbeddingGenerator</c> and
    /// <c>AddTrainedModelEmbeddingGenerator</c> register), if there is one.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="folder">The store's folder.</param>
    /// <param name="configure">Sets the store's options; null for the defaults.</param>
    /// <returns>The service collection, to chain calls.</returns>
    /// <exception cref="ArgumentException">The folder is empty.</exception>
    public static IServiceCollection AddFolderVectorStore(this IServiceCollection services, string folder, Action<IServiceProvider, FolderVectorStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        services.TryAddSingleton(provider =>
        {
            var options = new FolderVectorStoreOptions();
            configure?.Invoke(provider, options);
            options.EmbeddingGenerator ??= provider.GetService<IEmbeddingGenerator<float[], Embedding<float>>>();
            return new FolderVectorStore(folder, options);
        });
        services.TryAddSingleton<VectorStore>(provider => provider.GetRequiredService<FolderVectorStore>());
        return services;
    }
}
