using System;
using Microsoft.Extensions.Logging;

namespace MetricLearning.Training;

/// <summary>The training loop's log messages, defined once (no formatting work when the level is off).</summary>
internal static class TrainingLog
{
    internal static readonly Action<ILogger, string, int, string, string, Exception?> Started =
        LoggerMessage.Define<string, int, string, string>(LogLevel.Information, TrainingTelemetry.Started,
            "{Trainer} starts: {Epochs} epochs, {Optimizer}, {Schedule} schedule");

    internal static readonly Action<ILogger, string, int, int, double, double, Exception?> EpochCompleted =
        LoggerMessage.Define<string, int, int, double, double>(LogLevel.Information, TrainingTelemetry.EpochCompleted,
            "{Trainer} epoch {Epoch}/{Epochs}: loss {Loss:F4}, {Seconds:F2} s");

    internal static readonly Action<ILogger, string, string, int, Exception?> CheckpointSaved =
        LoggerMessage.Define<string, string, int>(LogLevel.Debug, TrainingTelemetry.CheckpointSaved,
            "{Trainer} saved a checkpoint to {Path} after epoch {Epoch}");

    internal static readonly Action<ILogger, string, string, int, int, Exception?> Resumed =
        LoggerMessage.Define<string, string, int, int>(LogLevel.Information, TrainingTelemetry.Resumed,
            "{Trainer} resumes from {Path} at epoch {Epoch}, step {Step}");

    internal static readonly Action<ILogger, string, int, double, Exception?> Diverged =
        LoggerMessage.Define<string, int, double>(LogLevel.Error, TrainingTelemetry.Diverged,
            "{Trainer} stopped: the mean loss of epoch {Epoch} is {Loss}");

    internal static readonly Action<ILogger, string, string, Exception?> FusedStepChosen =
        LoggerMessage.Define<string, string>(LogLevel.Information, TrainingTelemetry.StepChosen,
            "{Trainer} trains with the fused step ({Step})");

    internal static readonly Action<ILogger, string, string, Exception?> AutogradStepChosen =
        LoggerMessage.Define<string, string>(LogLevel.Information, TrainingTelemetry.StepChosen,
            "{Trainer} trains with the autograd step: {Reason}");

    internal static readonly Action<ILogger, string, int, int, Exception?> Cancelled =
        LoggerMessage.Define<string, int, int>(LogLevel.Warning, TrainingTelemetry.Cancelled,
            "{Trainer} was cancelled at epoch {Epoch}, step {Step}");
}
