using System;
using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>A batch loss's hand-written value and gradient (see <see cref="IFusedBatchLoss"/>). Not thread-safe.</summary>
public interface IFusedBatchGradient : IDisposable
{
    /// <summary>The batch's loss, with its gradient with respect to every embedding.</summary>
    /// <param name="embeddings">Float32 <c>[B, D]</c> on the CPU.</param>
    /// <param name="labels">The class of each row.</param>
    /// <param name="mine">Whether the miner given at creation picks the pairs; otherwise every valid pair counts.</param>
    /// <param name="gradient">Float32 <c>[B, D]</c>, overwritten with the loss's gradient.</param>
    /// <returns>The loss.</returns>
    double Compute(Tensor embeddings, System.ReadOnlySpan<int> labels, bool mine, Tensor gradient);
}
