using System;
using System.IO;
using MetricLearning.Onnx;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a MetricLearning model exported to ONNX as the app's <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>, served without libtorch.</summary>
public static class OnnxServiceCollectionExtensions
{
    /// <summary>
    /// Registers, as singletons: the <see cref="OnnxEmbeddingModel"/> in <paramref name="modelFile"/> (loaded on first
    /// use) and an <see cref="OnnxEmbeddingGenerator"/> over it as <c>IEmbeddingGenerator&lt;float[], Embedding&lt;float&gt;&gt;</c>,
    /// its model id the file's name without extension. The container disposes the model. Registering a second model
    /// this way replaces nothing: the first stays.
    /// </summary>
    /// <param name="services">The app's services.</param>
    /// <param name="modelFile">A file written by <c>TrainedModel.ExportOnnx</c>.</param>
    /// <param name="configure">Adjusts threads and batching; null for the defaults.</param>
    /// <returns>The same services.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist (checked at registration, so a typo fails at start).</exception>
    public static IServiceCollection AddOnnxEmbeddingGenerator(this IServiceCollection services, string modelFile, Action<OnnxModelOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelFile);
        string path = Path.GetFullPath(modelFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"No ONNX model at '{path}'.", path);
        var options = new OnnxModelOptions();
        configure?.Invoke(options);
        options.Validate();
        services.TryAddSingleton(_ => OnnxEmbeddingModel.Load(path, options));
        services.TryAddSingleton<IEmbeddingGenerator<float[], Embedding<float>>>(provider =>
            new OnnxEmbeddingGenerator(provider.GetRequiredService<OnnxEmbeddingModel>(), Path.GetFileNameWithoutExtension(path)));
        return services;
    }
}
