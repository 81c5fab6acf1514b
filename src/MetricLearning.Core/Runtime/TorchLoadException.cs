using System;

namespace MetricLearning.Runtime;

/// <summary>TorchSharp's native library could not be loaded; the message names the real cause and the fix.</summary>
public sealed class TorchLoadException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    /// <param name="innerException">The error TorchSharp raised.</param>
    public TorchLoadException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
