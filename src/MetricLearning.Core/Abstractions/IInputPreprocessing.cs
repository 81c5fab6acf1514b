using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>
/// Turns raw inputs, as the user holds them (pixel values 0 to 255, say), into what the embedding network reads. It
/// is applied to every training batch and saved with the model, so that a loaded model embeds raw inputs exactly as
/// training did.
/// </summary>
/// <remarks>
/// Implementations are pure functions of their input: stateless and thread-safe. The returned tensor belongs to the
/// caller's dispose scope. A preprocessing of your own saves through its <see cref="IPartFormat"/> (a nested
/// <see cref="NumericPartFormat{TPart}"/> is enough), or, without one, by type name with a factory registered in
/// <see cref="Models.ModelComponents"/>.
/// </remarks>
public interface IInputPreprocessing
{
    /// <summary>Preprocesses a batch.</summary>
    /// <param name="inputs">Float32 raw inputs, shape <c>[N, ...]</c>.</param>
    /// <returns>Float32 network inputs, in the caller's dispose scope.</returns>
    Tensor Apply(Tensor inputs);
}
