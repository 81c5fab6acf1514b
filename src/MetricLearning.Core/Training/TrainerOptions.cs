using System;

namespace MetricLearning.Training;

/// <summary>Settings of <see cref="SiameseTrainer"/>. Defaults are the reference experiment's.</summary>
public sealed class TrainerOptions
{
    /// <summary>Pairs per optimisation step. Default 128.</summary>
    public int BatchSize { get; set; } = 128;

    /// <summary>Passes over the training pairs. Default 20.</summary>
    public int Epochs { get; set; } = 20;

    /// <summary>RMSprop learning rate. Default 0.001.</summary>
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>RMSprop decay of the running average of squared gradients (PyTorch's <c>alpha</c>, Keras' <c>rho</c>). Default 0.9.</summary>
    public double Rho { get; set; } = 0.9;

    /// <summary>RMSprop epsilon, added to the root of the squared-gradient average. Default 1e-7.</summary>
    public double Epsilon { get; set; } = 1e-7;

    /// <summary>Seed for the per-epoch shuffles and for dropout. Default 1337.</summary>
    public int Seed { get; set; } = 1337;

    /// <summary>
    /// Pairs whose distance is below this (or, with a similarity, above it) are predicted "same class" when accuracy
    /// is measured. Default 0.5.
    /// </summary>
    public double Threshold { get; set; } = 0.5;

    /// <summary>Pairs per forward pass during evaluation. Default 4096.</summary>
    public int EvaluationBatchSize { get; set; } = 4096;

    /// <summary>Whether to measure accuracy on the training pairs (dropout off) after every epoch. Default true.</summary>
    public bool EvaluateTrainingPairs { get; set; } = true;

    /// <summary>Checks every setting and names the first one that is wrong.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "TrainerOptions.BatchSize must be at least 1.");
        if (Epochs < 1)
            throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "TrainerOptions.Epochs must be at least 1.");
        if (!double.IsFinite(LearningRate) || LearningRate <= 0)
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "TrainerOptions.LearningRate must be positive and finite.");
        if (!double.IsFinite(Rho) || Rho < 0 || Rho >= 1)
            throw new ArgumentOutOfRangeException(nameof(Rho), Rho, "TrainerOptions.Rho must be in [0, 1).");
        if (!double.IsFinite(Epsilon) || Epsilon <= 0)
            throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "TrainerOptions.Epsilon must be positive and finite.");
        if (!double.IsFinite(Threshold))
            throw new ArgumentOutOfRangeException(nameof(Threshold), Threshold, "TrainerOptions.Threshold must be finite.");
        if (EvaluationBatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(EvaluationBatchSize), EvaluationBatchSize, "TrainerOptions.EvaluationBatchSize must be at least 1.");
    }

    /// <summary>A copy of these options.</summary>
    public TrainerOptions Clone() => (TrainerOptions)MemberwiseClone();
}
