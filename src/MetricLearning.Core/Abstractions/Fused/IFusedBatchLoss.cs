namespace MetricLearning;

/// <summary>
/// An <see cref="IBatchLoss"/> with a hand-written gradient beside its autograd formula, alone or with the pairs a
/// miner picks computed inside the same pass. Used with an <see cref="IFusedNetwork"/> to train without autograd; see
/// that interface for the rules.
/// </summary>
public interface IFusedBatchLoss : IBatchLoss
{
    /// <summary>The hand-written gradient for this miner (or none), or null when it does not apply.</summary>
    /// <param name="miner">The trainer's miner, or null for every valid pair.</param>
    /// <param name="maxRows">The most embeddings one step has.</param>
    /// <param name="embeddingWidth">The width of the embeddings.</param>
    /// <param name="whyNot">Why it does not apply (for the log: "the miner is a BatchHardMiner"); null when it does.</param>
    /// <returns>The gradient's computation, owned by the caller, or null.</returns>
    IFusedBatchGradient? CreateFusedGradient(IMiner? miner, int maxRows, int embeddingWidth, out string? whyNot);
}
