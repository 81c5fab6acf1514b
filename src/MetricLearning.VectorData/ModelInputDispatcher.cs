using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace MetricLearning.VectorData;

/// <summary>
/// Embeds <see cref="ModelInput"/> values with a generator of plain arrays (MetricLearning's generators take
/// <c>float[]</c>), which the abstraction's own dispatcher does not know: it handles string and DataContent inputs.
/// </summary>
internal sealed class ModelInputDispatcher : EmbeddingGenerationDispatcher
{
    internal static readonly ModelInputDispatcher Instance = new();

    public override Type EmbeddingType => typeof(Embedding<float>);

    public override Type? ResolveEmbeddingType(VectorPropertyModel vectorProperty, IEmbeddingGenerator embeddingGenerator, Type? userRequestedEmbeddingType) =>
        vectorProperty.Type == typeof(ModelInput)
        && embeddingGenerator is IEmbeddingGenerator<float[], Embedding<float>>
        && (userRequestedEmbeddingType is null || userRequestedEmbeddingType == typeof(Embedding<float>))
            ? typeof(Embedding<float>)
            : null;

    public override bool CanGenerateEmbedding(VectorPropertyModel vectorProperty, IEmbeddingGenerator embeddingGenerator) =>
        embeddingGenerator is IEmbeddingGenerator<float[], Embedding<float>>;

    public override async Task<IReadOnlyList<Embedding>> GenerateEmbeddingsAsync(VectorPropertyModel vectorProperty, IEnumerable<object?> values, CancellationToken cancellationToken)
    {
        var generator = Generator(vectorProperty);
        var inputs = values.Select(value => Input(vectorProperty, value)).ToArray();
        return (await generator.GenerateAsync(inputs, cancellationToken: cancellationToken).ConfigureAwait(false)).Cast<Embedding>().ToArray();
    }

    public override async Task<Embedding> GenerateEmbeddingAsync(VectorPropertyModel vectorProperty, object? value, CancellationToken cancellationToken)
    {
        var generator = Generator(vectorProperty);
        var generated = await generator.GenerateAsync(new[] { Input(vectorProperty, value) }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return generated[0];
    }

    private static IEmbeddingGenerator<float[], Embedding<float>> Generator(VectorPropertyModel vectorProperty) =>
        vectorProperty.EmbeddingGenerator as IEmbeddingGenerator<float[], Embedding<float>>
        ?? throw new InvalidOperationException($"Property '{vectorProperty.ModelName}' has no embedding generator of float[] inputs.");

    private static float[] Input(VectorPropertyModel vectorProperty, object? value) => value switch
    {
        ModelInput input => input.Values,
        null => throw new ArgumentException($"Property '{vectorProperty.ModelName}' needs a ModelInput to embed, but it is null."),
        _ => throw new InvalidOperationException(
            $"Property '{vectorProperty.ModelName}' embeds ModelInput values with a generator of float[] inputs; a {value.GetType().Name} was given. Wrap the model's input in a ModelInput."),
    };
}
