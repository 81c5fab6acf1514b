using System;

namespace MetricLearning.Training;

/// <summary>
/// Where and how often a trainer saves a checkpoint it can resume from exactly: the weights (the network's and the
/// loss's), the optimizer's state and learning rates, every random generator's state, the position in the run and the
/// history. Settable properties so that it binds from configuration.
/// </summary>
/// <remarks>
/// <para>
/// The checkpoint is one file, <see cref="FileName"/>, in <see cref="Folder"/>, replaced atomically (a temporary
/// file, flushed to disk, then renamed over it), so a process killed while writing leaves the previous checkpoint
/// whole. It is written every <see cref="EveryEpochs"/> epochs, after the last epoch, and when training is cancelled
/// (at the step where it stopped).
/// </para>
/// <para>
/// A resumed run continues bit for bit as the uninterrupted run would have, given the same data, settings, device and
/// thread count. A checkpoint written with other settings, another network or loss, or other data is refused with a
/// <see cref="CheckpointException"/> naming the first difference.
/// </para>
/// </remarks>
public sealed class CheckpointOptions
{
    /// <summary>The checkpoint's file name inside <see cref="Folder"/>.</summary>
    public const string FileName = "checkpoint.mlckpt";

    /// <summary>The folder of the checkpoint; null (the default) for no checkpoints.</summary>
    public string? Folder { get; set; }

    /// <summary>Epochs between two checkpoints; at least 1. Default 1.</summary>
    public int EveryEpochs { get; set; } = 1;

    /// <summary>
    /// Whether to continue from the checkpoint in <see cref="Folder"/>, which must exist. When false and the folder
    /// already holds a checkpoint, training refuses to start rather than overwrite it. Default false.
    /// </summary>
    public bool Resume { get; set; }

    /// <summary>The checkpoint file's full path, or null without a folder.</summary>
    public string? FilePath => Folder is null ? null : System.IO.Path.Combine(System.IO.Path.GetFullPath(Folder), FileName);

    /// <summary>Checks every setting and names the first one that is wrong.</summary>
    /// <param name="owner">Where these settings live, for the message (for example "TrainerOptions.Checkpoint").</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    /// <exception cref="ArgumentException">Resume is set without a folder, or the folder is blank.</exception>
    public void Validate(string owner = nameof(CheckpointOptions))
    {
        if (EveryEpochs < 1)
            throw new ArgumentOutOfRangeException(nameof(EveryEpochs), EveryEpochs, $"{owner}.EveryEpochs must be at least 1.");
        if (Folder is not null && string.IsNullOrWhiteSpace(Folder))
            throw new ArgumentException($"{owner}.Folder must not be blank; leave it null for no checkpoints.", nameof(Folder));
        if (Resume && Folder is null)
            throw new ArgumentException($"{owner}.Resume needs {owner}.Folder, the folder of the checkpoint to resume.", nameof(Resume));
    }

    /// <summary>A copy of these settings.</summary>
    /// <returns>A new object with the same values.</returns>
    public CheckpointOptions Clone() => (CheckpointOptions)MemberwiseClone();
}
