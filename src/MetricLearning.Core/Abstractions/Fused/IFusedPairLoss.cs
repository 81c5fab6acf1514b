namespace MetricLearning;

/// <summary>
/// An <see cref="ILoss"/> with a hand-written gradient beside its autograd formula: the pair loss and its derivative
/// with respect to both embeddings of each pair, in closed form, for some distances. Used with an
/// <see cref="IFusedNetwork"/> to train without autograd; see that interface for the rules.
/// </summary>
public interface IFusedPairLoss : ILoss
{
    /// <summary>The hand-written gradient for pairs compared with <paramref name="distance"/>, or null when it does not apply.</summary>
    /// <param name="distance">The Siamese model's distance.</param>
    /// <param name="maxPairs">The most pairs one step has.</param>
    /// <param name="embeddingWidth">The width of the embeddings.</param>
    /// <param name="whyNot">Why it does not apply (for the log); null when it does.</param>
    /// <returns>The gradient's computation, owned by the caller, or null.</returns>
    IFusedPairGradient? CreateFusedGradient(IDistance distance, int maxPairs, int embeddingWidth, out string? whyNot);
}
