using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace MetricLearning.Training;

/// <summary>
/// The names under which the trainers publish metrics (<see cref="System.Diagnostics.Metrics"/>) and log events
/// (<see cref="ILogger"/>), so that an app's OpenTelemetry or logging setup can pick them up:
/// <c>builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(TrainingTelemetry.MeterName))</c>.
/// </summary>
/// <remarks>
/// Every measurement carries the tag <see cref="TrainerTag"/> (<c>SiameseTrainer</c> or <c>EmbeddingTrainer</c>).
/// Instruments cost next to nothing when nothing listens.
/// </remarks>
public static class TrainingTelemetry
{
    /// <summary>The name of the library's <see cref="Meter"/>.</summary>
    public const string MeterName = "MetricLearning";

    /// <summary>Counter of optimisation steps taken.</summary>
    public const string StepsInstrument = "metriclearning.training.steps";

    /// <summary>Counter of training examples processed (pairs on the pair path, embeddings on the batch path).</summary>
    public const string SamplesInstrument = "metriclearning.training.samples";

    /// <summary>Histogram of each epoch's training throughput, examples per second.</summary>
    public const string ThroughputInstrument = "metriclearning.training.throughput";

    /// <summary>Histogram of each epoch's mean training loss.</summary>
    public const string LossInstrument = "metriclearning.training.loss";

    /// <summary>Histogram of each epoch's training pass duration, seconds.</summary>
    public const string EpochDurationInstrument = "metriclearning.training.epoch.duration";

    /// <summary>The tag naming the trainer on every measurement.</summary>
    public const string TrainerTag = "metriclearning.trainer";

    /// <summary>Log event: an epoch finished (information).</summary>
    public static readonly EventId EpochCompleted = new(1001, nameof(EpochCompleted));

    /// <summary>Log event: a checkpoint was written (debug).</summary>
    public static readonly EventId CheckpointSaved = new(1002, nameof(CheckpointSaved));

    /// <summary>Log event: training resumed from a checkpoint (information).</summary>
    public static readonly EventId Resumed = new(1003, nameof(Resumed));

    /// <summary>Log event: the loss became NaN or infinite and training stopped (error).</summary>
    public static readonly EventId Diverged = new(1004, nameof(Diverged));

    /// <summary>Log event: training was cancelled (warning).</summary>
    public static readonly EventId Cancelled = new(1005, nameof(Cancelled));

    /// <summary>Log event: training started (information).</summary>
    public static readonly EventId Started = new(1006, nameof(Started));

    /// <summary>
    /// Log event: which step the run takes (information): the fused step, or autograd with the reason the fused step
    /// does not apply (see <see cref="TrainerOptions.FusedStep"/>, <see cref="EmbeddingTrainerOptions.FusedStep"/>).
    /// </summary>
    public static readonly EventId StepChosen = new(1007, nameof(StepChosen));

    internal static readonly Meter Meter = new(MeterName, typeof(TrainingTelemetry).Assembly.GetName().Version?.ToString());
    internal static readonly Counter<long> Steps = Meter.CreateCounter<long>(StepsInstrument, "{step}", "Optimisation steps taken.");
    internal static readonly Counter<long> Samples = Meter.CreateCounter<long>(SamplesInstrument, "{sample}", "Training examples processed.");
    internal static readonly Histogram<double> Throughput = Meter.CreateHistogram<double>(ThroughputInstrument, "{sample}/s", "Training examples per second, per epoch.");
    internal static readonly Histogram<double> Loss = Meter.CreateHistogram<double>(LossInstrument, null, "Mean training loss, per epoch.");
    internal static readonly Histogram<double> EpochDuration = Meter.CreateHistogram<double>(EpochDurationInstrument, "s", "Duration of each epoch's training pass.");
}
