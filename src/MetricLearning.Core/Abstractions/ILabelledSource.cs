using System.Collections.Generic;
using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>
/// Labelled training or evaluation data read a batch at a time, for data that need not (or cannot) sit in memory:
/// its size, its labels, and the raw inputs at any list of positions. <see cref="Training.EmbeddingTrainer"/> and the embedder read it ahead of
/// the step that needs it, on worker threads (or, with a read-ahead of 0 batches, on their own thread when the step
/// needs it).
/// </summary>
/// <remarks>
/// <see cref="Read"/> is called from several threads at once and must be thread-safe. It may run on the caller's
/// thread inside that thread's dispose scope (and <c>no_grad</c>): a tensor it keeps between calls must be moved out
/// of the current scope (<c>DetachFromDisposeScope</c>), as must the one it returns. Raw inputs are what the source
/// stores (pixels 0 to 255 as bytes, say); <see cref="Preprocessing"/> turns them into network inputs and is saved
/// with a model trained on them. The library's sources: <see cref="Data.InMemorySource"/> (a tensor),
/// <c>ImageFolderSource</c> (package MetricLearning.Images) (class folders of image files) and MetricLearning.Mnist's <c>IdxSource</c>.
/// </remarks>
public interface ILabelledSource
{
    /// <summary>How many inputs there are.</summary>
    int Count { get; }

    /// <summary>The class of each input, in order (0 to classes − 1).</summary>
    IReadOnlyList<int> Labels { get; }

    /// <summary>The shape of one raw input, for example <c>[1, 28, 28]</c>.</summary>
    IReadOnlyList<long> InputShape { get; }

    /// <summary>What turns raw inputs into network inputs.</summary>
    IInputPreprocessing Preprocessing { get; }

    /// <summary>Reads the raw inputs at <paramref name="positions"/>, in that order.</summary>
    /// <param name="positions">Positions from 0 to <see cref="Count"/> − 1; repeats allowed.</param>
    /// <returns>A new CPU tensor <c>[positions.Count, ...InputShape]</c> owned by the caller, in no dispose scope.</returns>
    /// <exception cref="System.ArgumentOutOfRangeException">A position is out of range.</exception>
    /// <exception cref="System.IO.InvalidDataException">An input could not be read (the message names it).</exception>
    Tensor Read(IReadOnlyList<int> positions);
}
