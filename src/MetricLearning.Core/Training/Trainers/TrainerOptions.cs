using System;

namespace MetricLearning.Training;

/// <summary>Settings of <see cref="SiameseTrainer"/>. Defaults are the reference experiment's.</summary>
public sealed class TrainerOptions
{
    /// <summary>Pairs per optimisation step. Default 128.</summary>
    public int BatchSize { get; set; } = 128;

    /// <summary>Passes over the training pairs. Default 20.</summary>
    public int Epochs { get; set; } = 20;

    /// <summary>The optimizer and its settings. Default RMSprop with learning rate 0.001, rho 0.9 and epsilon 1e-7 (the reference experiment's).</summary>
    public OptimizerSettings Optimizer { get; set; } = OptimizerSettings.RmsProp();

    /// <summary>Where and how often to save checkpoints, and whether to resume one. Default: no checkpoints.</summary>
    public CheckpointOptions Checkpoint { get; set; } = new();

    /// <summary>How the learning rate changes between epochs. Default constant.</summary>
    public LearningRateSchedule Schedule { get; set; } = LearningRateSchedule.Constant();

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

    /// <summary>
    /// Whether a step may be computed without autograd when the network has a hand-written pass
    /// (<see cref="IFusedNetwork"/>) and the loss a hand-written gradient at the model's distance
    /// (<see cref="IFusedPairLoss"/>), and both accept this run: in the library, an
    /// <see cref="Networks.MlpEmbeddingNetwork"/> (ReLU, tanh or identity activation, float32 on the CPU, every
    /// parameter trained) with the <see cref="Losses.ContrastiveLoss"/> at the <see cref="Distances.EuclideanDistance"/>.
    /// A fused step computes the same loss and gradients as autograd (the same dropout masks for a seed; sums rounded
    /// in another order), which made the reference experiment's epoch faster (figures in docs/performance.md). The
    /// fused step does not run forward hooks registered on the network's modules: turn it off if you use them. Other
    /// runs use autograd whatever this says; the trainer logs which step it takes and why
    /// (<see cref="TrainingTelemetry.StepChosen"/>). A checkpoint is resumed only on the step it was written with.
    /// Default true; false forces autograd.
    /// </summary>
    public bool FusedStep { get; set; } = true;

    /// <summary>Checks every setting and names the first one that is wrong.</summary>
    /// <exception cref="ArgumentException">A setting is out of range or inconsistent.</exception>
    /// <exception cref="ArgumentNullException">The optimizer, schedule or checkpoint settings are null.</exception>
    public void Validate()
    {
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "TrainerOptions.BatchSize must be at least 1.");
        if (Epochs < 1)
            throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "TrainerOptions.Epochs must be at least 1.");
        if (Optimizer is null)
            throw new ArgumentNullException(nameof(Optimizer), "TrainerOptions.Optimizer must not be null.");
        if (Schedule is null)
            throw new ArgumentNullException(nameof(Schedule), "TrainerOptions.Schedule must not be null.");
        if (Checkpoint is null)
            throw new ArgumentNullException(nameof(Checkpoint), "TrainerOptions.Checkpoint must not be null.");
        Optimizer.Validate("TrainerOptions.Optimizer");
        Checkpoint.Validate("TrainerOptions.Checkpoint");
        Schedule.Validate("TrainerOptions.Schedule");
        if (!double.IsFinite(Threshold))
            throw new ArgumentOutOfRangeException(nameof(Threshold), Threshold, "TrainerOptions.Threshold must be finite.");
        if (EvaluationBatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(EvaluationBatchSize), EvaluationBatchSize, "TrainerOptions.EvaluationBatchSize must be at least 1.");
    }

    /// <summary>A copy of these options, the optimizer, schedule and checkpoint settings included.</summary>
    /// <returns>A new object with the same values.</returns>
    public TrainerOptions Clone()
    {
        var copy = (TrainerOptions)MemberwiseClone();
        copy.Optimizer = Optimizer?.Clone()!;
        copy.Schedule = Schedule?.Clone()!;
        copy.Checkpoint = Checkpoint?.Clone()!;
        return copy;
    }
}
