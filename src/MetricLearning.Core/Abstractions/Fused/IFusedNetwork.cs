using System.Collections.Generic;
using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>
/// An <see cref="IEmbeddingNetwork"/> that has a hand-written training pass beside its autograd one: a forward pass
/// into buffers made once, and a backward pass written out by hand. The trainers ask for it when the loss has a
/// hand-written gradient too (<see cref="IFusedPairLoss"/>, <see cref="IFusedBatchLoss"/>) and
/// <c>FusedStep</c> is on; otherwise, and whenever this returns null, they take the autograd step, which is the
/// reference every fused pass is tested against.
/// </summary>
/// <remarks>
/// A fused pass must give the autograd pass's values and gradients up to the rounding of sums, draw dropout masks as
/// the module's own forward does for a seed, and say why it declines (the reason is logged).
/// </remarks>
public interface IFusedNetwork : IEmbeddingNetwork
{
    /// <summary>The hand-written pass for steps of up to <paramref name="maxRows"/> inputs, or null when it does not apply.</summary>
    /// <param name="inputShape">The shape of one (preprocessed) input, without the batch dimension.</param>
    /// <param name="device">The device the inputs are on.</param>
    /// <param name="maxRows">The most inputs one step embeds.</param>
    /// <param name="whyNot">Why the pass does not apply (for the log: "the activation is Gelu"); null when it does.</param>
    /// <returns>The pass, owned by the caller (dispose it), or null.</returns>
    IFusedNetworkPass? CreateFusedPass(IReadOnlyList<long> inputShape, Device device, int maxRows, out string? whyNot);
}
