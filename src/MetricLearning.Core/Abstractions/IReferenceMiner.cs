using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>
/// A pair miner that can mine pairs between a batch of queries and separate references (pytorch-metric-learning's
/// <c>ref_emb</c>), as <see cref="Losses.CrossBatchMemory"/> needs. Internal: the miners that implement it are the
/// ones <see cref="Losses.CrossBatchMemory"/> accepts.
/// </summary>
internal interface IReferenceMiner
{
    /// <summary>
    /// The pairs (query i, reference j) to keep among the same-class pairs <paramref name="positive"/> and the
    /// different-class pairs <paramref name="negative"/>, without gradient, as boolean <c>[Nq, Nr]</c> masks in the
    /// caller's dispose scope. The inputs are checked by the caller.
    /// </summary>
    (Tensor Positive, Tensor Negative) Mine(Tensor queries, Tensor references, Tensor positive, Tensor negative);
}
