using System;
using System.Linq;
using MetricLearning.Components;

namespace MetricLearning.DependencyInjection;

/// <summary>
/// The batch loss, miner and reducer that <c>AddMetricLearning</c> registers for <see cref="Training.EmbeddingTrainer"/>,
/// chosen by name from the catalogues (<see cref="LossCatalogue"/>, <see cref="MinerCatalogue"/>,
/// <see cref="ReducerCatalogue"/>), so that configuration can choose them (section <c>BatchLoss</c> of the options).
/// Registering a loss or miner in code (<c>UseBatchLoss</c>, <c>UseMiner</c>) takes precedence.
/// </summary>
public sealed class BatchLossOptions
{
    /// <summary>The loss's name; multi-similarity by default.</summary>
    public string Loss { get; set; } = "multi-similarity";

    /// <summary>The miner's name, or "auto" for the one the loss's paper uses; none by default.</summary>
    public string Miner { get; set; } = "none";

    /// <summary>The reducer's name; "default" (the loss's own) by default. "class-weighted" needs labels and is chosen in code.</summary>
    public string Reducer { get; set; } = "default";

    /// <summary>With the threshold reducer: values must be above this.</summary>
    public double? ReducerLow { get; set; }

    /// <summary>With the threshold reducer: values must be below this.</summary>
    public double? ReducerHigh { get; set; }

    /// <summary>How many classes the labels have; needed by the losses with one vector per class (proxies, centres).</summary>
    public int Classes { get; set; }

    /// <summary>The embeddings' width; 0 (the default) for the last layer of the options' MLP.</summary>
    public long EmbeddingSize { get; set; }

    /// <summary>Seeds the random miners; null (the default) for the run's seed, <see cref="Training.EmbeddingTrainerOptions.Seed"/>.</summary>
    public long? Seed { get; set; }

    /// <summary>Throws unless every name is in its catalogue and the numbers are in range.</summary>
    /// <exception cref="ArgumentException">A name is unknown (the message lists the known ones) or a number is out of range.</exception>
    public void Validate()
    {
        if (!LossCatalogue.Names.Contains(Loss))
            throw new ArgumentException($"BatchLossOptions.Loss '{Loss}' is not a loss; the losses are: {string.Join(", ", LossCatalogue.Names)}.", nameof(Loss));
        if (Miner != MinerCatalogue.Auto && !MinerCatalogue.Names.Contains(Miner))
            throw new ArgumentException($"BatchLossOptions.Miner '{Miner}' is not a miner; the miners are: auto, {string.Join(", ", MinerCatalogue.Names)}.", nameof(Miner));
        if (!ReducerCatalogue.Names.Contains(Reducer) || Reducer == "class-weighted")
            throw new ArgumentException($"BatchLossOptions.Reducer '{Reducer}' is not a reducer that configuration can choose; they are: {string.Join(", ", ReducerCatalogue.Names.Where(n => n != "class-weighted"))} (class-weighted needs the labels: register it in code).", nameof(Reducer));
        if (Reducer == "threshold" && ReducerLow is null && ReducerHigh is null)
            throw new ArgumentException("BatchLossOptions.Reducer 'threshold' needs ReducerLow or ReducerHigh.", nameof(ReducerLow));
        if (Classes < 0)
            throw new ArgumentOutOfRangeException(nameof(Classes), Classes, "BatchLossOptions.Classes must be at least 0.");
        if (EmbeddingSize < 0)
            throw new ArgumentOutOfRangeException(nameof(EmbeddingSize), EmbeddingSize, "BatchLossOptions.EmbeddingSize must be at least 0 (0 for the MLP's last layer).");
    }
}
