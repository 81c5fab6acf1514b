using System;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Networks;
using MetricLearning.Data;
using MetricLearning.Training;

namespace MetricLearning.DependencyInjection;

/// <summary>Settings of the services <c>AddMetricLearning</c> registers. Defaults are the reference experiment's.</summary>
public sealed class MetricLearningOptions
{
    /// <summary>Margin of the contrastive loss. Default 1.</summary>
    public double Margin { get; set; } = ContrastiveLoss.DefaultMargin;

    /// <summary>Floor under the square root of the Euclidean distance. Default 1e-7.</summary>
    public double DistanceFloor { get; set; } = EuclideanDistance.DefaultFloor;

    /// <summary>Seed of the pair sampler. Default 1337.</summary>
    public int SamplerSeed { get; set; } = AlternatingPairSampler.DefaultSeed;

    /// <summary>Shape of the MLP embedding network.</summary>
    public MlpOptions Network { get; set; } = new();

    /// <summary>Trainer settings.</summary>
    public TrainerOptions Trainer { get; set; } = new();

    /// <summary>Settings of the batch-loss trainer (<see cref="EmbeddingTrainer"/>).</summary>
    public EmbeddingTrainerOptions EmbeddingTrainer { get; set; } = new();

    /// <summary>The batch loss, miner and reducer registered for the embedding trainer, by name.</summary>
    public BatchLossOptions BatchLoss { get; set; } = new();

    /// <summary>Checks every setting and names the first one that is wrong.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (!double.IsFinite(Margin) || Margin <= 0)
            throw new ArgumentOutOfRangeException(nameof(Margin), Margin, "MetricLearningOptions.Margin must be positive and finite.");
        if (!double.IsFinite(DistanceFloor) || DistanceFloor <= 0)
            throw new ArgumentOutOfRangeException(nameof(DistanceFloor), DistanceFloor, "MetricLearningOptions.DistanceFloor must be positive and finite.");
        if (Network is null)
            throw new ArgumentNullException(nameof(Network), "MetricLearningOptions.Network must not be null.");
        if (Trainer is null)
            throw new ArgumentNullException(nameof(Trainer), "MetricLearningOptions.Trainer must not be null.");
        if (EmbeddingTrainer is null)
            throw new ArgumentNullException(nameof(EmbeddingTrainer), "MetricLearningOptions.EmbeddingTrainer must not be null.");
        if (BatchLoss is null)
            throw new ArgumentNullException(nameof(BatchLoss), "MetricLearningOptions.BatchLoss must not be null.");
        Network.Validate();
        BatchLoss.Validate();
        Trainer.Validate();
        EmbeddingTrainer.Validate();
    }
}
