using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MetricLearning.Models;
using Microsoft.Extensions.AI;

namespace MetricLearning.Extensions.AI;

/// <summary>
/// A trained model as Microsoft.Extensions.AI's <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over raw inputs
/// given as <c>float[]</c>, so that code written against the abstraction (vector stores, Semantic Kernel, your own)
/// uses it like any other embedding generator. The model's saved preprocessing is applied to each input; requests
/// from concurrent callers are batched by an <see cref="EmbeddingBatcher"/>.
/// </summary>
/// <remarks>
/// The values of one call run as one request (one forward pass, possibly shared with other callers' requests).
/// Safe to use from many threads. It does not own the batcher or the model: dispose those after it (the dependency
/// injection registration does).
/// </remarks>
public sealed class TrainedModelEmbeddingGenerator : IEmbeddingGenerator<float[], Embedding<float>>
{
    /// <summary>The provider name in <see cref="Metadata"/>.</summary>
    public const string ProviderName = "MetricLearning";

    private readonly EmbeddingBatcher _batcher;

    /// <summary>Creates the generator.</summary>
    /// <param name="batcher">Serves the model's forward passes.</param>
    /// <param name="modelId">The model's name in <see cref="Metadata"/> and on each embedding (for example its folder's name); null for none.</param>
    public TrainedModelEmbeddingGenerator(EmbeddingBatcher batcher, string? modelId = null)
    {
        ArgumentNullException.ThrowIfNull(batcher);
        _batcher = batcher;
        ModelId = modelId;
        Metadata = new EmbeddingGeneratorMetadata(ProviderName, providerUri: null, defaultModelId: modelId,
            defaultModelDimensions: checked((int)batcher.Model.Network.EmbeddingSize));
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
        EmbeddingGeneration.GenerateAsync(values, options, Metadata.DefaultModelDimensions!.Value, ModelId, _batcher.EmbedAsync, cancellationToken);

    /// <summary>
    /// The generator's services: its <see cref="EmbeddingGeneratorMetadata"/>, the generator itself, its
    /// <see cref="EmbeddingBatcher"/> and its <see cref="TrainedModel"/>; null for anything else or any key.
    /// </summary>
    /// <param name="serviceType">The type asked for.</param>
    /// <param name="serviceKey">A key; only null is served.</param>
    /// <returns>The service, or null.</returns>
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        EmbeddingGeneration.GetService(serviceType, serviceKey, Metadata, this, _batcher, _batcher.Model);

    /// <summary>Does nothing: the batcher and the model are their owner's to dispose.</summary>
    public void Dispose()
    {
    }
}
