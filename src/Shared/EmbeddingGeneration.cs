using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;

namespace MetricLearning.Models;

/// <summary>
/// What every MetricLearning <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> does around its model (the torch
/// model's in MetricLearning.Extensions.AI, the ONNX model's in MetricLearning.Onnx): compiled into both packages,
/// which share no assembly.
/// </summary>
internal static class EmbeddingGeneration
{
    /// <summary>Checks the dimensions asked for, embeds the inputs as one request, and stamps each row with the model id and the time.</summary>
    /// <exception cref="ArgumentException">Other dimensions than the model's were asked for.</exception>
    internal static async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<float[]> values,
        EmbeddingGenerationOptions? options,
        int dimensions,
        string? modelId,
        Func<IReadOnlyList<float[]>, CancellationToken, Task<float[][]>> embed,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (options?.Dimensions is int asked && asked != dimensions)
            throw new ArgumentException($"This model's embeddings have {dimensions} dimensions; {asked} were asked for.", nameof(options));
        var inputs = values as IReadOnlyList<float[]> ?? values.ToArray();
        var rows = await embed(inputs, cancellationToken).ConfigureAwait(false);
        var created = DateTimeOffset.UtcNow;
        return new GeneratedEmbeddings<Embedding<float>>(rows.Select(row => new Embedding<float>(row) { ModelId = modelId, CreatedAt = created }));
    }

    /// <summary>The generator's services: its metadata, then the first of <paramref name="services"/> of the type asked for; null for anything else or any key.</summary>
    internal static object? GetService(Type serviceType, object? serviceKey, EmbeddingGeneratorMetadata metadata, params object[] services)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
            return null;
        return serviceType == typeof(EmbeddingGeneratorMetadata) ? metadata : services.FirstOrDefault(serviceType.IsInstanceOfType);
    }
}
