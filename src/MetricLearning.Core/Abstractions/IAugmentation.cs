using System;
using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>
/// Random changes to training inputs that keep their class (a crop, a flip, a little rotation, other lighting), so
/// that the network learns what does not change. Applied by <see cref="Training.EmbeddingTrainer"/> to each training
/// batch only; evaluation, embedding and saved models never see it.
/// </summary>
/// <remarks>
/// Applied to raw inputs in their stored units (pixels 0 to 255, as float32), before the preprocessing. All randomness
/// comes from <c>random</c>, which the trainer seeds from its seed, the epoch and the step: the same seed gives the
/// same augmented batches on every device and after a resumed run. Implementations are stateless and thread-safe; the
/// returned tensor belongs to the caller's dispose scope.
/// </remarks>
public interface IAugmentation
{
    /// <summary>Augments a batch, each input independently.</summary>
    /// <param name="inputs">Float32 raw inputs <c>[N, ...]</c> on the training device.</param>
    /// <param name="random">The only source of randomness to use.</param>
    /// <returns>A tensor of the same shape, dtype and device.</returns>
    Tensor Apply(Tensor inputs, Random random);
}
