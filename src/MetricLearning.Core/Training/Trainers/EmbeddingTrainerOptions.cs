using System;

namespace MetricLearning.Training;

/// <summary>Settings of <see cref="EmbeddingTrainer"/>.</summary>
public sealed class EmbeddingTrainerOptions
{
    /// <summary>Passes over the data (each of <c>floor(samples / BatchSize)</c> batches). Default 20.</summary>
    public int Epochs { get; set; } = 20;

    /// <summary>Samples per class in a batch (M). Default 32.</summary>
    public int SamplesPerClass { get; set; } = 32;

    /// <summary>Samples per batch; a multiple of <see cref="SamplesPerClass"/>. Default 320 (10 classes of 32).</summary>
    public int BatchSize { get; set; } = 320;

    /// <summary>The optimizer and its settings. Default Adam with learning rate 0.001 and PyTorch's other defaults.</summary>
    public OptimizerSettings Optimizer { get; set; } = OptimizerSettings.Adam();

    /// <summary>Where and how often to save checkpoints, and whether to resume one. Default: no checkpoints.</summary>
    public CheckpointOptions Checkpoint { get; set; } = new();

    /// <summary>How the learning rate changes between epochs. Default cosine annealing down to 0 over <see cref="Epochs"/>.</summary>
    public LearningRateSchedule Schedule { get; set; } = LearningRateSchedule.Cosine();

    /// <summary>
    /// Epochs trained on every valid pair or triplet before the miner, if any, is used: a guard against hard-example
    /// miners collapsing randomly initialised embeddings. Default 0.
    /// </summary>
    public int MinerWarmupEpochs { get; set; }

    /// <summary>
    /// The embedding spread (<see cref="EmbeddingEpochReport.Spread"/>) below which training stops with an
    /// <see cref="EmbeddingCollapseException"/>, because every embedding points the same way and no loss can separate
    /// the classes again. Default 0.01; 0 turns the check off.
    /// </summary>
    /// <remarks>
    /// The spread is measured on directions, which is what cosine and normalised losses see. A loss on raw distances
    /// could in principle separate classes that all lie far out along one direction (every embedding near some large
    /// c, with differences of the margin's size); turn the check off for such a model.
    /// </remarks>
    public double CollapseSpread { get; set; } = 0.01;

    /// <summary>Seed of the batches and of dropout. Default 1337.</summary>
    public int Seed { get; set; } = 1337;

    /// <summary>
    /// Random changes applied to each training batch's raw inputs before preprocessing (for images, an
    /// <c>ImageAugmentation</c> (package MetricLearning.Images)), drawn from a generator seeded with <see cref="Seed"/>, the epoch and the
    /// step; null for none (the default). Never applied outside training.
    /// </summary>
    public IAugmentation? Augmentation { get; set; }

    /// <summary>
    /// When training from an <see cref="ILabelledSource"/>: how many batches are read ahead of the step, each on a
    /// worker thread (memory: this many batches of raw inputs, and the one in use); 0 to 64. Default 4. 0 reads each
    /// batch on the training thread when the step needs it, so that the reading time adds to the step's: slower where
    /// a core is free to read ahead; where every core trains, readers on worker threads take their time from torch's
    /// threads anyway (<c>bench/compare-streaming.sh --prefetch P</c> compares the two on your machine). Not used for
    /// in-memory inputs.
    /// </summary>
    public int PrefetchBatches { get; set; } = 4;

    /// <summary>
    /// Whether a step may be computed without autograd when the network has a hand-written pass
    /// (<see cref="IFusedNetwork"/>) and the loss a hand-written gradient for the miner (<see cref="IFusedBatchLoss"/>),
    /// both accept this run, and the data is an in-memory <see cref="Data.InputSet"/> without augmentation: in the
    /// library, an <see cref="Networks.MlpEmbeddingNetwork"/> (ReLU, tanh or identity activation, float32 on the CPU,
    /// every parameter trained) with the <see cref="Losses.MultiSimilarityLoss"/> on
    /// <see cref="Distances.CosineSimilarity"/> and the <see cref="Mining.MultiSimilarityMiner"/> (cosine) or no miner.
    /// A fused step computes the same loss and gradients as autograd (the same pairs mined, the same dropout masks for
    /// a seed; sums rounded in another order), which made the retrieval sample's epoch faster (figures in
    /// docs/performance.md). The fused step does not run forward hooks registered on the network's modules: turn it off if you
    /// use them. Other runs use autograd whatever this says; the trainer logs which step it takes and why
    /// (<see cref="TrainingTelemetry.StepChosen"/>). A checkpoint is resumed only on the step it was written with.
    /// Default true; false forces autograd.
    /// </summary>
    public bool FusedStep { get; set; } = true;

    /// <summary>Checks every setting and names the first one that is wrong.</summary>
    /// <exception cref="ArgumentException">A setting is out of range or inconsistent.</exception>
    /// <exception cref="ArgumentNullException">The optimizer, schedule or checkpoint settings are null.</exception>
    public void Validate()
    {
        if (Epochs < 1)
            throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "EmbeddingTrainerOptions.Epochs must be at least 1.");
        if (SamplesPerClass < 2)
            throw new ArgumentOutOfRangeException(nameof(SamplesPerClass), SamplesPerClass, "EmbeddingTrainerOptions.SamplesPerClass must be at least 2.");
        if (BatchSize < 2 * SamplesPerClass || BatchSize % SamplesPerClass != 0)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize,
                "EmbeddingTrainerOptions.BatchSize must be a multiple of SamplesPerClass holding at least two classes.");
        if (MinerWarmupEpochs < 0)
            throw new ArgumentOutOfRangeException(nameof(MinerWarmupEpochs), MinerWarmupEpochs, "EmbeddingTrainerOptions.MinerWarmupEpochs must be at least 0.");
        if (!double.IsFinite(CollapseSpread) || CollapseSpread < 0 || CollapseSpread >= 1)
            throw new ArgumentOutOfRangeException(nameof(CollapseSpread), CollapseSpread, "EmbeddingTrainerOptions.CollapseSpread must be in [0, 1).");
        if (PrefetchBatches is < 0 or > 64)
            throw new ArgumentOutOfRangeException(nameof(PrefetchBatches), PrefetchBatches, "EmbeddingTrainerOptions.PrefetchBatches must be between 0 and 64.");
        if (Optimizer is null)
            throw new ArgumentNullException(nameof(Optimizer), "EmbeddingTrainerOptions.Optimizer must not be null.");
        if (Schedule is null)
            throw new ArgumentNullException(nameof(Schedule), "EmbeddingTrainerOptions.Schedule must not be null.");
        if (Checkpoint is null)
            throw new ArgumentNullException(nameof(Checkpoint), "EmbeddingTrainerOptions.Checkpoint must not be null.");
        Optimizer.Validate("EmbeddingTrainerOptions.Optimizer");
        Checkpoint.Validate("EmbeddingTrainerOptions.Checkpoint");
        Schedule.Validate("EmbeddingTrainerOptions.Schedule");
    }

    /// <summary>A copy of these options, the optimizer, schedule and checkpoint settings included.</summary>
    /// <returns>A new object with the same values.</returns>
    public EmbeddingTrainerOptions Clone()
    {
        var copy = (EmbeddingTrainerOptions)MemberwiseClone();
        copy.Optimizer = Optimizer?.Clone()!;
        copy.Schedule = Schedule?.Clone()!;
        copy.Checkpoint = Checkpoint?.Clone()!;
        return copy;
    }
}
