using System;

namespace MetricLearning.Training;

/// <summary>
/// A checkpoint cannot be used: it is missing, damaged, from another format, or was written by a run with other
/// settings, another network or loss, or other data; or a checkpoint would be overwritten without
/// <see cref="CheckpointOptions.Resume"/>. The message names the file and what is wrong.
/// </summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="message">What is wrong, naming the file.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    public CheckpointException(string path, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Path = path;
    }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }
}
