using System;

namespace MetricLearning.Mnist.Acquisition;

/// <summary>The MNIST files could not be obtained from any source; the message lists what was tried and why each failed.</summary>
public sealed class MnistUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was tried and why each source failed.</param>
    public MnistUnavailableException(string message)
        : base(message)
    {
    }
}
