using MetricLearning.Runtime;

namespace SiameseMnist;

/// <summary>Everything the command line decides about a run.</summary>
internal sealed record ExperimentSettings(
    int Epochs,
    int BatchSize,
    int Seed,
    ComputeDevice Device,
    int Threads,
    string DataFolder,
    string? SourceFolder,
    int? TrainImages,
    string? SaveWeights,
    string? MetricsOut,
    string? CheckpointFolder = null,
    bool Resume = false,
    string? ReportFolder = null)
{
    /// <summary>The first setting that is out of range, as a message naming the option; null if all are fine.</summary>
    internal string? Problem()
    {
        if (Epochs < 1)
            return $"--epochs must be at least 1; got {Epochs}.";
        if (BatchSize < 1)
            return $"--batch-size must be at least 1; got {BatchSize}.";
        if (Threads < 1)
            return $"--threads must be at least 1; got {Threads}.";
        if (TrainImages is < 2)
            return $"--train-images must be at least 2; got {TrainImages}.";
        if (!System.Enum.IsDefined(Device))
            return $"--device must be auto, cpu or cuda; got {Device}.";
        if (SourceFolder is { } folder && !System.IO.Directory.Exists(folder))
            return $"--source folder '{folder}' does not exist.";
        if (Resume && CheckpointFolder is null)
            return "--resume needs --checkpoint, the folder of the checkpoint to continue.";
        if (string.IsNullOrWhiteSpace(DataFolder))
            return "--data must name a folder.";
        return null;
    }
}
