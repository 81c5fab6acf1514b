using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Training;

/// <summary>
/// What feeds <see cref="TrainingLoop"/>: the steps of each epoch and the measurements after it. The pair path
/// (<see cref="PairFeeder"/>) and the batch path (<see cref="BatchFeeder"/>) are the two feeders.
/// </summary>
/// <typeparam name="TReport">The per-epoch report the feeder makes.</typeparam>
internal interface ITrainingFeeder<TReport> : ITrainingFeederState, IDisposable
{
    /// <summary>Draws the epoch's order (called with the module in training mode); returns how many steps it has.</summary>
    int BeginEpoch(int epoch);

    /// <summary>
    /// The loss of one step (a 0-d tensor in the caller's dispose scope), the weight of that loss in the epoch's
    /// total (the loop divides the weighted sum by <see cref="EpochLossDivisor"/> to get the epoch's mean), and how
    /// many training examples the step saw.
    /// </summary>
    Tensor StepLoss(int step, out Scalar weight, out double weightValue, out int samples);

    /// <summary>
    /// Whether <see cref="StepLoss"/> has already written the step's gradients into the parameters (a fused step), so
    /// that the loop must neither zero them nor run the backward pass; fixed for the feeder's lifetime.
    /// </summary>
    bool WritesGradients { get; }

    /// <summary>What the epoch's weighted loss total is divided by (pairs for the pair path, batches for the batch path).</summary>
    double EpochLossDivisor { get; }

    /// <summary>Measures what the epoch produced (the module may be switched to evaluation mode) and reports it.</summary>
    TReport Report(int epoch, double meanLoss, double trainSeconds);

    /// <summary>Frees what <see cref="BeginEpoch"/> made.</summary>
    void EndEpoch();

    /// <summary>Throws if the reports so far show that training cannot go on (for example collapsed embeddings).</summary>
    void CheckProgress(IReadOnlyList<TReport> reports);
}

/// <summary>The part of a feeder's state that a checkpoint must hold to replay an epoch exactly (its shuffling generator).</summary>
internal interface ITrainingFeederState
{
    /// <summary>The state that decides the next epoch's order, or null if the order depends on the epoch number alone.</summary>
    byte[]? CaptureState();

    /// <summary>Restores a state <see cref="CaptureState"/> returned.</summary>
    /// <exception cref="System.IO.InvalidDataException">The state does not fit this feeder.</exception>
    void RestoreState(byte[] state);
}
