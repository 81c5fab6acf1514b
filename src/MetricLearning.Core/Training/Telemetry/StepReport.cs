namespace MetricLearning.Training;

/// <summary>Progress within an epoch, reported a few times a second while a trainer runs.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Epochs">How many epochs the run has.</param>
/// <param name="Step">Steps of this epoch done so far, from 1.</param>
/// <param name="StepsPerEpoch">Steps in this epoch.</param>
/// <param name="RunningLoss">Mean loss of this epoch's steps so far (weighted as the epoch's mean is).</param>
/// <param name="SamplesPerSecond">Training examples (pairs on the pair path, embeddings on the batch path) per second in this epoch so far.</param>
public sealed record StepReport(int Epoch, int Epochs, int Step, int StepsPerEpoch, double RunningLoss, double SamplesPerSecond);
