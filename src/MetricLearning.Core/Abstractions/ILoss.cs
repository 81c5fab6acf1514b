using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>
/// A pair loss: turns the distances of a batch of pairs and their same/different labels into one scalar to minimise.
/// </summary>
/// <remarks>
/// Label convention, everywhere in MetricLearning: <b>1 means "same class"</b>, 0 means "different classes"
/// (the reverse of Hadsell et al.'s paper). Implementations validate shapes before any native call, return a
/// 0-d tensor in the caller's dispose scope, hold no mutable state and are thread-safe.
/// </remarks>
public interface ILoss
{
    /// <summary>Computes the loss of one batch of pairs.</summary>
    /// <param name="distances">Shape <c>[N]</c>, N &gt; 0: the distance of each pair, as an <see cref="IDistance"/> returns it.</param>
    /// <param name="sameClass">Shape <c>[N]</c>: 1 for a same-class pair, 0 otherwise (float, integer or bool).</param>
    /// <returns>A 0-d tensor: the loss, differentiable with respect to <paramref name="distances"/>.</returns>
    Tensor Compute(Tensor distances, Tensor sameClass);
}
