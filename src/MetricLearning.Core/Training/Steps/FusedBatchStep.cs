using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using TorchSharp;
using MetricLearning.Data;
using static TorchSharp.torch;

namespace MetricLearning.Training;

/// <summary>
/// One step of the batch path without autograd: the network's hand-written pass (<see cref="IFusedNetwork"/>) and
/// the batch loss's hand-written gradient, mining included (<see cref="IFusedBatchLoss"/>), joined at the embeddings.
/// Which network, loss and miner they are is theirs to say; this class only runs them in order.
/// </summary>
/// <remarks>Not thread-safe. Owns the pass and the gradient.</remarks>
internal sealed class FusedBatchStep : IDisposable
{
    private readonly IFusedNetworkPass _pass;
    private readonly IFusedBatchGradient _gradient;
    private readonly IReadOnlyList<int> _labels;
    private readonly int[] _batchLabels;

    private FusedBatchStep(IFusedNetworkPass pass, IFusedBatchGradient gradient, IReadOnlyList<int> labels)
    {
        _pass = pass;
        _gradient = gradient;
        _labels = labels;
        _batchLabels = new int[pass.MaxRows];
    }

    /// <summary>The fused step for this network, loss and miner, or null with the reason (logged by the trainer).</summary>
    /// <param name="network">The network being trained.</param>
    /// <param name="loss">The batch loss.</param>
    /// <param name="miner">The miner, or null for none.</param>
    /// <param name="inputs">The inputs the steps will gather from.</param>
    /// <param name="labels">Every input's class label.</param>
    /// <param name="batchSize">The rows of a step.</param>
    /// <param name="whyNot">Why the fused step does not apply; null when it does.</param>
    internal static FusedBatchStep? TryCreate(IEmbeddingNetwork network, IBatchLoss loss, IMiner? miner, InputSet inputs, IReadOnlyList<int> labels,
        int batchSize, out string? whyNot)
    {
        if (network is not IFusedNetwork fusedNetwork)
        {
            whyNot = $"the network ({network.GetType().Name}) has no hand-written pass ({nameof(IFusedNetwork)})";
            return null;
        }

        if (loss is not IFusedBatchLoss fusedLoss)
        {
            whyNot = $"the loss ({loss.GetType().Name}) has no hand-written gradient ({nameof(IFusedBatchLoss)})";
            return null;
        }

        var pass = fusedNetwork.CreateFusedPass(inputs.InputShape, inputs.Device, batchSize, out whyNot);
        if (pass is null)
            return null;
        IFusedBatchGradient? gradient = null;
        try
        {
            gradient = fusedLoss.CreateFusedGradient(miner, batchSize, pass.EmbeddingWidth, out whyNot);
        }
        finally
        {
            if (gradient is null)
                pass.Dispose();
        }

        return gradient is null ? null : new FusedBatchStep(pass, gradient, labels);
    }

    /// <summary>
    /// Computes the loss of one batch and writes its gradient into every parameter's gradient (replacing what was
    /// there, so no zeroing is needed first).
    /// </summary>
    /// <param name="inputs">The set the batch is gathered from.</param>
    /// <param name="indices">Int64 <c>[B]</c> on the CPU: the batch's rows.</param>
    /// <param name="mine">Whether the miner (given at creation) picks the pairs; otherwise every valid pair counts.</param>
    /// <returns>The loss, a float32 0-d tensor in the caller's dispose scope (no autograd history).</returns>
    internal Tensor Step(InputSet inputs, Tensor indices, bool mine)
    {
        int rows = checked((int)indices.shape[0]);
        if (rows < 2 || rows > _pass.MaxRows)
            throw new ArgumentException($"A fused batch step takes 2 to {_pass.MaxRows} rows; got {rows}.", nameof(indices));
        if (indices.dtype != ScalarType.Int64 || indices.device_type != DeviceType.CPU || !indices.is_contiguous())
            throw new ArgumentException($"A fused batch step takes contiguous int64 indices on the CPU; got {indices.dtype} on {indices.device}.", nameof(indices));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var rowIndices = MemoryMarshal.Cast<byte, long>(indices.bytes);
        for (int i = 0; i < rows; i++)
            _batchLabels[i] = _labels[checked((int)rowIndices[i])];

        inputs.GatherInto(indices, _pass.Inputs(rows));
        var embeddings = _pass.Forward(rows);
        double loss = _gradient.Compute(embeddings, _batchLabels.AsSpan(0, rows), mine, _pass.EmbeddingGradient(rows));
        _pass.Backward(rows);
        return tensor((float)loss).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _gradient.Dispose();
        _pass.Dispose();
    }
}
