using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MetricLearning.Models;
using Microsoft.Extensions.AI;

namespace MetricLearning.Onnx;

/// <summary>
/// An ONNX model as Microsoft.Extensions.AI's <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over raw inputs
/// given as <c>float[]</c>, as <c>TrainedModelEmbeddingGenerator</c> serves a torch model: the same inputs, the same
/// embeddings (within float rounding), no libtorch. Concurrent callers' requests are batched by the model.
/// </summary>
/// <remarks>Safe to use from many threads. It does not own the model: dispose that after it (the dependency injection registration does).</remarks>
public sealed class OnnxEmbeddingGenerator : IEmbeddingGenerator<float[], Embedding<float>>
{
    /// <summary>The provider name in <see cref="Metadata"/>.</summary>
    public const string ProviderName = "MetricLearning.Onnx";

    private readonly OnnxEmbeddingModel _model;

    /// <summary>Creates the generator.</summary>
    /// <param name="model">The model to serve.</param>
    /// <param name="modelId">The model's name in <see cref="Metadata"/> and on each embedding (for example its file's name); null for none.</param>
    public OnnxEmbeddingGenerator(OnnxEmbeddingModel model, string? modelId = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        ModelId = modelId;
        Metadata = new EmbeddingGeneratorMetadata(ProviderName, providerUri: null, defaultModelId: modelId, defaultModelDimensions: model.EmbeddingSize);
    }

    /// <summary>The model's name, or null.</summary>
    public string? ModelId { get; }

    /// <summary>What the abstraction describes of a generator: provider, model id and embedding width.</summary>
    public EmbeddingGeneratorMetadata Metadata { get; }

    /// <summary>Embeds raw inputs.</summary>
    /// <param name="values">One array per input, each row-major in the model's input shape.</param>
    /// <param name="options">Options; <see cref="EmbeddingGenerationOptions.Dimensions"/>, if set, must be the model's embedding width.</param>
    /// <param name="cancellationToken">Cancels the request while it waits for its batch.</param>
    /// <returns>One embedding per input, in order.</returns>
    /// <exception cref="ArgumentException">An input has the wrong length or holds a value that is not finite, or other dimensions were asked for.</exception>
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<float[]> values,
        EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default) =>
        EmbeddingGeneration.GenerateAsync(values, options, _model.EmbeddingSize, ModelId, _model.EmbedAsync, cancellationToken);

    /// <summary>The generator's services: its <see cref="EmbeddingGeneratorMetadata"/>, the generator itself and its <see cref="OnnxEmbeddingModel"/>; null for anything else or any key.</summary>
    /// <param name="serviceType">The type asked for.</param>
    /// <param name="serviceKey">A key; only null is served.</param>
    /// <returns>The service, or null.</returns>
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        EmbeddingGeneration.GetService(serviceType, serviceKey, Metadata, this, _model);

    /// <summary>Does nothing: the model is its owner's to dispose.</summary>
    public void Dispose()
    {
    }
}
