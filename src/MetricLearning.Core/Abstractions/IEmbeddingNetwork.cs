using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>
/// Maps a batch of inputs to a batch of embeddings: the part of a metric-learning model that is trained.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Module"/> takes a float32 tensor of shape <c>[N, ...]</c> (N inputs of any shape) and returns
/// a float32 tensor of shape <c>[N, EmbeddingSize]</c>. The trainer reads its parameters, switches it between
/// training and evaluation mode, and calls it; nothing else is assumed, so any TorchSharp module can serve.
/// </para>
/// <para>
/// Ownership: the implementation owns the module and its parameters; tensors the module returns belong to the
/// caller (and to the caller's dispose scope). Thread-safety: a module is not thread-safe; use it from one thread.
/// </para>
/// </remarks>
public interface IEmbeddingNetwork
{
    /// <summary>Length of each embedding vector the network returns.</summary>
    long EmbeddingSize { get; }

    /// <summary>The trainable module: <c>[N, ...]</c> float32 inputs to <c>[N, EmbeddingSize]</c> embeddings.</summary>
    nn.Module<Tensor, Tensor> Module { get; }
}
