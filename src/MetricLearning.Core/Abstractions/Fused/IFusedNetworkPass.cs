using System;
using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>
/// A network's hand-written training pass (see <see cref="IFusedNetwork"/>): the trainer writes a step's inputs into
/// <see cref="Inputs"/>, calls <see cref="Forward"/>, has the loss write its gradient with respect to the embeddings
/// into <see cref="EmbeddingGradient"/>, then calls <see cref="Backward"/>, which writes every parameter's gradient.
/// </summary>
/// <remarks>
/// The tensors returned are views of buffers the pass owns and reuses: valid until the next call, never disposed by
/// the caller. Call under <c>no_grad</c>. Not thread-safe.
/// </remarks>
public interface IFusedNetworkPass : IDisposable
{
    /// <summary>The most inputs one step takes.</summary>
    int MaxRows { get; }

    /// <summary>The width of the embeddings.</summary>
    int EmbeddingWidth { get; }

    /// <summary>Where the trainer writes the step's (preprocessed) inputs: float32 <c>[rows, ...]</c>.</summary>
    /// <param name="rows">The step's inputs, 1 to <see cref="MaxRows"/>.</param>
    Tensor Inputs(int rows);

    /// <summary>Embeds the first <paramref name="rows"/> inputs of <see cref="Inputs"/> (with dropout when the module is in training mode).</summary>
    /// <param name="rows">The step's inputs.</param>
    /// <returns>The embeddings, float32 <c>[rows, EmbeddingWidth]</c>.</returns>
    Tensor Forward(int rows);

    /// <summary>Where the loss writes its gradient with respect to the last <see cref="Forward"/>'s embeddings: float32 <c>[rows, EmbeddingWidth]</c>.</summary>
    /// <param name="rows">The step's inputs.</param>
    Tensor EmbeddingGradient(int rows);

    /// <summary>Backpropagates <see cref="EmbeddingGradient"/> and writes every parameter's gradient, replacing what was there.</summary>
    /// <param name="rows">The step's inputs.</param>
    void Backward(int rows);
}
