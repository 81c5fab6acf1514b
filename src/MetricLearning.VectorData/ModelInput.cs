using System;

namespace MetricLearning.VectorData;

/// <summary>
/// A raw input of a MetricLearning model (pixels, features: the floats its network takes), for a record property or a
/// search that a MetricLearning <c>IEmbeddingGenerator&lt;float[], Embedding&lt;float&gt;&gt;</c> embeds.
/// </summary>
/// <remarks>
/// A vector store treats a <c>float[]</c> property as the vector itself, so a model's input needs a type of its own:
/// declare the record's property as <see cref="ModelInput"/> (with <c>[VectorStoreVector(embeddingSize)]</c>), give
/// the store or collection the model's generator, and the store keeps the embedding, not the input.
/// </remarks>
public sealed class ModelInput
{
    /// <summary>Wraps an input (not copied).</summary>
    /// <param name="values">The input's values, as many as the model takes.</param>
    /// <exception cref="ArgumentNullException"><paramref name="values"/> is null.</exception>
    public ModelInput(float[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        Values = values;
    }

    /// <summary>The input's values.</summary>
    public float[] Values { get; }
}
