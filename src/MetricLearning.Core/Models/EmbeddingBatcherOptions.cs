using System;

namespace MetricLearning.Models;

/// <summary>How an <see cref="EmbeddingBatcher"/> gathers requests into batches.</summary>
public sealed class EmbeddingBatcherOptions
{
    /// <summary>The most inputs one forward pass takes (a single larger request runs alone). Default 64.</summary>
    public int MaxBatchSize { get; set; } = 64;

    /// <summary>
    /// How long the first request of a batch may wait for others to join it. Default 0: a pass takes whatever is
    /// waiting, and requests that arrive while it runs form the next batch, so a lone caller never waits and callers
    /// under load share passes (measured with <c>bench serve</c>: on 2 cores a 1 ms wait cut a lone caller to a
    /// tenth of its rate without helping 64 callers). A wait helps when requests arrive in bursts shorter than it.
    /// </summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.Zero;

    /// <summary>The most requests waiting at once; callers beyond it wait for room (back-pressure). Default 4096.</summary>
    public int QueueCapacity { get; set; } = 4096;

    /// <summary>Checks every setting and names the first one that is wrong.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        if (MaxBatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), MaxBatchSize, "EmbeddingBatcherOptions.MaxBatchSize must be at least 1.");
        if (MaxWait < TimeSpan.Zero || MaxWait > TimeSpan.FromSeconds(10))
            throw new ArgumentOutOfRangeException(nameof(MaxWait), MaxWait, "EmbeddingBatcherOptions.MaxWait must be between 0 and 10 seconds.");
        if (QueueCapacity < 1)
            throw new ArgumentOutOfRangeException(nameof(QueueCapacity), QueueCapacity, "EmbeddingBatcherOptions.QueueCapacity must be at least 1.");
    }

    /// <summary>A copy of these settings.</summary>
    /// <returns>A new object with the same values.</returns>
    public EmbeddingBatcherOptions Clone() => (EmbeddingBatcherOptions)MemberwiseClone();
}
