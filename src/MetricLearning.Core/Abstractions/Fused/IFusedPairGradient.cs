using System;
using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>A pair loss's hand-written value and gradient (see <see cref="IFusedPairLoss"/>). Not thread-safe.</summary>
public interface IFusedPairGradient : IDisposable
{
    /// <summary>The mean loss of the pairs, with its gradient with respect to every embedding.</summary>
    /// <param name="embeddings">Float32 <c>[2N, D]</c> on the CPU: rows <c>i</c> and <c>N + i</c> are pair <c>i</c>.</param>
    /// <param name="sameClass">Float32 <c>[N]</c>: 1 for a same-class pair, 0 otherwise.</param>
    /// <param name="gradient">Float32 <c>[2N, D]</c>, overwritten with the mean loss's gradient.</param>
    /// <returns>The mean loss.</returns>
    double Compute(Tensor embeddings, Tensor sameClass, Tensor gradient);
}
