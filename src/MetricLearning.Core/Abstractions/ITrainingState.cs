using System.Collections.Generic;
using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>
/// A loss or miner whose state changes as it trains, beyond weights it trains (<see cref="ITrainableParameters"/>):
/// a cross-batch memory's queue of past embeddings, a random miner's generator. The trainers save these tensors in
/// checkpoints and copy them back in place on resume, so that a resumed run continues as the uninterrupted one would.
/// </summary>
/// <remarks>
/// The list must name the same tensors, with the same dtypes and shapes, for the life of the object; the trainer
/// refuses a checkpoint whose tensors differ, naming the first. A part that also implements <see cref="IEpochAware"/>
/// is told when each epoch begins, after its state is restored.
/// </remarks>
public interface ITrainingState
{
    /// <summary>The tensors to save, by names unique within this part.</summary>
    IReadOnlyList<KeyValuePair<string, Tensor>> TrainingState { get; }
}
