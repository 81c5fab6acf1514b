namespace MetricLearning.Training;

/// <summary>What one epoch of <see cref="EmbeddingTrainer"/> produced.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Epochs">How many epochs the run has.</param>
/// <param name="Loss">Mean batch loss over the epoch.</param>
/// <param name="TrainSeconds">Wall-clock seconds of the training pass.</param>
public sealed record EmbeddingEpochReport(int Epoch, int Epochs, double Loss, double TrainSeconds);
