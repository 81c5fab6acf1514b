using System;
using MetricLearning.Data;
using MetricLearning.Models;
using static TorchSharp.torch;

namespace MetricLearning.Training;

/// <summary>
/// One step of the pair path without autograd: the network's hand-written pass (<see cref="IFusedNetwork"/>) and
/// the pair loss's hand-written gradient (<see cref="IFusedPairLoss"/>), joined at the embeddings. Which network and
/// which loss they are is theirs to say; this class only runs them in order.
/// </summary>
/// <remarks>Not thread-safe. Owns the pass and the gradient.</remarks>
internal sealed class FusedPairStep : IDisposable
{
    private readonly IFusedNetworkPass _pass;
    private readonly IFusedPairGradient _gradient;

    private FusedPairStep(IFusedNetworkPass pass, IFusedPairGradient gradient)
    {
        _pass = pass;
        _gradient = gradient;
    }

    /// <summary>The fused step for this model and loss, or null with the reason (logged by the trainer).</summary>
    /// <param name="model">The Siamese model being trained.</param>
    /// <param name="loss">The pair loss.</param>
    /// <param name="inputs">The inputs the steps will gather from.</param>
    /// <param name="maxPairs">The most pairs a step has.</param>
    /// <param name="whyNot">Why the fused step does not apply; null when it does.</param>
    internal static FusedPairStep? TryCreate(SiameseNetwork model, ILoss loss, InputSet inputs, int maxPairs, out string? whyNot)
    {
        if (model.Embedding is not IFusedNetwork network)
        {
            whyNot = $"the network ({model.Embedding.GetType().Name}) has no hand-written pass ({nameof(IFusedNetwork)})";
            return null;
        }

        if (loss is not IFusedPairLoss fusedLoss)
        {
            whyNot = $"the loss ({loss.GetType().Name}) has no hand-written gradient ({nameof(IFusedPairLoss)})";
            return null;
        }

        if (maxPairs > int.MaxValue / 2)
        {
            whyNot = $"a step of {maxPairs} pairs has more inputs than a fused pass takes";
            return null;
        }

        var pass = network.CreateFusedPass(inputs.InputShape, inputs.Device, 2 * maxPairs, out whyNot);
        if (pass is null)
            return null;
        IFusedPairGradient? gradient = null;
        try
        {
            gradient = fusedLoss.CreateFusedGradient(model.Distance, maxPairs, pass.EmbeddingWidth, out whyNot);
        }
        finally
        {
            if (gradient is null)
                pass.Dispose();
        }

        return gradient is null ? null : new FusedPairStep(pass, gradient);
    }

    /// <summary>
    /// Computes the loss of one step and writes its gradient into every parameter's gradient (replacing what was
    /// there, so no zeroing is needed first).
    /// </summary>
    /// <param name="inputs">The set the step's inputs are gathered from.</param>
    /// <param name="indices">Int64 <c>[2N]</c> on the CPU: the pairs' first inputs' rows, then their second inputs' rows.</param>
    /// <param name="sameClass">Float32 <c>[N]</c>: 1 for a same-class pair, 0 otherwise.</param>
    /// <returns>The mean loss, a float32 0-d tensor in the caller's dispose scope (no autograd history).</returns>
    internal Tensor Step(InputSet inputs, Tensor indices, Tensor sameClass)
    {
        int rows = checked((int)indices.shape[0]);
        int pairs = rows / 2;
        if (rows == 0 || rows % 2 != 0 || rows > _pass.MaxRows || sameClass.shape[0] != pairs)
            throw new ArgumentException(
                $"A fused step takes an even number of rows up to {_pass.MaxRows} and a same-class flag per pair; got {rows} rows and {sameClass.shape[0]} flags.", nameof(indices));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        inputs.GatherInto(indices, _pass.Inputs(rows));
        var embeddings = _pass.Forward(rows);
        double loss = _gradient.Compute(embeddings, sameClass, _pass.EmbeddingGradient(rows));
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
