using System;

namespace MetricLearning.Onnx;

/// <summary>How an <see cref="OnnxEmbeddingModel"/> runs: ONNX Runtime's threads and the batching of concurrent callers.</summary>
public sealed class OnnxModelOptions
{
    /// <summary>
    /// Threads ONNX Runtime uses inside one run; 0 (the default) lets it choose (one per physical core). With many
    /// concurrent callers, fewer threads leave cores for the callers, as with torch's thread count.
    /// </summary>
    public int Threads { get; set; }

    /// <summary>The most inputs one run of <see cref="OnnxEmbeddingModel.EmbedAsync(float[], System.Threading.CancellationToken)"/> batches take (a single larger request runs alone). Default 64.</summary>
    public int MaxBatchSize { get; set; } = 64;

    /// <summary>How long the first request of a batch may wait for others to join it. Default 0: a run takes whatever is waiting.</summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.Zero;

    /// <summary>The most requests waiting at once; callers beyond it wait for room. Default 4096.</summary>
    public int QueueCapacity { get; set; } = 4096;

    /// <summary>Checks every setting and names the first one that is wrong.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        if (Threads is < 0 or > 1024)
            throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "OnnxModelOptions.Threads must be between 0 (ONNX Runtime's choice) and 1,024.");
        if (MaxBatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), MaxBatchSize, "OnnxModelOptions.MaxBatchSize must be at least 1.");
        if (MaxWait < TimeSpan.Zero || MaxWait > TimeSpan.FromSeconds(10))
            throw new ArgumentOutOfRangeException(nameof(MaxWait), MaxWait, "OnnxModelOptions.MaxWait must be between 0 and 10 seconds.");
        if (QueueCapacity < 1)
            throw new ArgumentOutOfRangeException(nameof(QueueCapacity), QueueCapacity, "OnnxModelOptions.QueueCapacity must be at least 1.");
    }

    /// <summary>A copy of these settings.</summary>
    /// <returns>A new object with the same values.</returns>
    public OnnxModelOptions Clone() => (OnnxModelOptions)MemberwiseClone();
}
