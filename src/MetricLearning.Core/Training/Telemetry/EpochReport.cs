namespace MetricLearning.Training;

/// <summary>What one epoch of training produced.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Epochs">How many epochs the run has.</param>
/// <param name="Loss">Mean training loss over the epoch's pairs (dropout on, as optimised).</param>
/// <param name="TrainAccuracy">Pair accuracy on the training pairs after the epoch, dropout off; null if not measured.</param>
/// <param name="ValidationAccuracy">Pair accuracy on the validation pairs after the epoch; null without validation data.</param>
/// <param name="TrainSeconds">Wall-clock seconds of the training pass alone.</param>
/// <param name="EvaluationSeconds">Wall-clock seconds spent measuring accuracy after the pass.</param>
public sealed record EpochReport(
    int Epoch,
    int Epochs,
    double Loss,
    double? TrainAccuracy,
    double? ValidationAccuracy,
    double TrainSeconds,
    double EvaluationSeconds);
