using System;
using static TorchSharp.torch;

namespace MetricLearning.Components;

/// <summary>What <see cref="LossCatalogue.Create"/> needs to build a loss by name, beyond the name.</summary>
/// <param name="Classes">How many classes the training labels have (labels 0 to Classes − 1); losses with one vector per class need at least 2, the others ignore it.</param>
/// <param name="EmbeddingSize">The width of the embeddings.</param>
/// <param name="Device">Where losses with weights of their own keep them; null for the CPU.</param>
/// <param name="Seed">Seeds the random miners a loss's paper uses (a run and a resumed run then draw the same).</param>
public sealed record LossContext(int Classes, long EmbeddingSize, Device? Device = null, long Seed = 0)
{
    /// <summary>Throws unless the numbers are in range; a loss with one vector per class checks its class count itself.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative class count, or an embedding size below 1.</exception>
    internal void Validate()
    {
        if (Classes < 0)
            throw new ArgumentOutOfRangeException(nameof(Classes), Classes, "The class count cannot be negative.");
        if (EmbeddingSize < 1)
            throw new ArgumentOutOfRangeException(nameof(EmbeddingSize), EmbeddingSize, "The embedding size must be at least 1.");
    }
}
