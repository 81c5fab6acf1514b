using System;

namespace MetricLearning.Training;

/// <summary>What the training loop needs of an optimizer: zero the gradients, step, and read or set each parameter group's learning rate.</summary>
internal interface IStepOptimizer : IDisposable
{
    /// <summary>How many parameter groups there are, in the order they were given.</summary>
    int GroupCount { get; }

    /// <summary>The current learning rate of a group.</summary>
    double GetLearningRate(int group);

    /// <summary>Sets the learning rate of a group for the following steps.</summary>
    void SetLearningRate(int group, double learningRate);

    /// <summary>Zeroes the gradients before a backward pass.</summary>
    void ZeroGrad();

    /// <summary>Applies one update from the accumulated gradients.</summary>
    void Step();

    /// <summary>The optimizer's state (moments, step counts), for a checkpoint; the learning rates are saved apart.</summary>
    byte[] SaveState();

    /// <summary>Restores a state <see cref="SaveState"/> made on an optimizer over the same parameters.</summary>
    /// <exception cref="System.IO.InvalidDataException">The state does not fit this optimizer.</exception>
    void LoadState(byte[] state);
}
