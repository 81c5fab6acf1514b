using System;
using MetricLearning.Data;
using static TorchSharp.torch;

namespace MetricLearning.Evaluation;

/// <summary>Embeds a whole input set for evaluation, retrieval or an index: dropout off, no gradient, in chunks.</summary>
public static class Embedder
{
    /// <summary>The embedding of every input, in input order.</summary>
    /// <param name="network">The network; switched to evaluation mode for the call and restored afterwards.</param>
    /// <param name="inputs">The inputs, on the network's device.</param>
    /// <param name="batchSize">Inputs per forward pass.</param>
    /// <returns>Shape <c>[inputs.Count, EmbeddingSize]</c>, in the caller's dispose scope.</returns>
    public static Tensor EmbedAll(IEmbeddingNetwork network, InputSet inputs, int batchSize = 8192)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var module = network.Module;
        bool wasTraining = module.training;
        module.eval();
        try
        {
            using var noGrad = no_grad();
            Tensor? all = null;
            for (long start = 0; start < inputs.Count; start += batchSize)
            {
                using var step = NewDisposeScope();
                long length = Math.Min(batchSize, inputs.Count - start);
                using var rows = arange(start, start + length, dtype: ScalarType.Int64, device: inputs.Device);
                var embedded = module.call(inputs.Gather(rows));
                all ??= empty(inputs.Count, embedded.shape[1], dtype: embedded.dtype, device: embedded.device).MoveToOuterDisposeScope();
                all.narrow(0, start, length).copy_(embedded);
            }

            return all!;
        }
        finally
        {
            module.train(wasTraining);
        }
    }
}
