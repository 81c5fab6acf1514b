namespace MetricLearning.Training;

/// <summary>What one epoch of <see cref="EmbeddingTrainer"/> produced.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Epochs">How many epochs the run has.</param>
/// <param name="Loss">Mean batch loss over the epoch.</param>
/// <param name="TrainSeconds">Wall-clock seconds of the training pass.</param>
/// <param name="Spread">
/// How far the L2-normalised embeddings of one batch lie from their mean direction, on average, after the epoch: about
/// 1 when they point every way, 0 when they have collapsed to one direction (or to zero).
/// </param>
/// <param name="Mined">Whether the miner was used in this epoch (false without a miner and during the warm-up).</param>
public sealed record EmbeddingEpochReport(int Epoch, int Epochs, double Loss, double TrainSeconds, double Spread, bool Mined);
