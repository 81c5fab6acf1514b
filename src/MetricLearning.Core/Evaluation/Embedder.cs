using System;
using System.Collections.Generic;
using System.Linq;
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

    /// <summary>
    /// The embedding of every input of a source, in order, read <paramref name="prefetchBatches"/> batches ahead on
    /// worker threads (0: each on the calling thread when it is needed).
    /// </summary>
    /// <param name="network">The network; switched to evaluation mode for the call and restored afterwards.</param>
    /// <param name="source">The inputs; each batch is moved to the network's device.</param>
    /// <param name="batchSize">Inputs per forward pass.</param>
    /// <param name="prefetchBatches">Batches read ahead, 0 to 64 (0: each read on the calling thread when it is needed).</param>
    /// <returns>Shape <c>[source.Count, EmbeddingSize]</c>, on the network's device, in the caller's dispose scope.</returns>
    /// <exception cref="System.IO.InvalidDataException">The source could not read an input (the message names it).</exception>
    public static Tensor EmbedAll(IEmbeddingNetwork network, ILabelledSource source, int batchSize = 512, int prefetchBatches = 4)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(prefetchBatches);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefetchBatches, 64);
        var module = network.Module;
        var device = module.parameters().FirstOrDefault()?.device ?? CPU;
        var batches = new List<int[]>();
        for (int start = 0; start < source.Count; start += batchSize)
            batches.Add(Enumerable.Range(start, Math.Min(batchSize, source.Count - start)).ToArray());
        bool wasTraining = module.training;
        module.eval();
        try
        {
            using var noGrad = no_grad();
            using var prefetcher = new BatchPrefetcher(source, batches, prefetchBatches);
            Tensor? all = null;
            for (int b = 0; b < batches.Count; b++)
            {
                using var step = NewDisposeScope();
                using var read = prefetcher.Take(b);
                var embedded = module.call(InputSet.Prepare(source.Preprocessing, read.to(device)));
                all ??= empty(source.Count, embedded.shape[1], dtype: embedded.dtype, device: embedded.device).MoveToOuterDisposeScope();
                all.narrow(0, batches[b][0], batches[b].Length).copy_(embedded);
            }

            return all ?? empty(0, network.EmbeddingSize, device: device);
        }
        finally
        {
            module.train(wasTraining);
        }
    }
}
