using System;

namespace MetricLearning.Indexing;

/// <summary>The HNSW graph's settings of an <see cref="ApproximateIndex"/>: more is slower and more accurate.</summary>
public sealed class ApproximateIndexOptions
{
    /// <summary>The largest <see cref="BuildBreadth"/> and <see cref="SearchBreadth"/>.</summary>
    public const int LargestBreadth = 4096;

    /// <summary>Links per node (HNSW's M); 2 to 256. Default 16.</summary>
    public int Connectivity { get; set; } = 16;

    /// <summary>Candidates examined when a vector is added (efConstruction); 1 to 4096. Default 128.</summary>
    public int BuildBreadth { get; set; } = 128;

    /// <summary>Candidates examined per search (ef); 1 to 4096. Default 64; <see cref="ApproximateIndex.SearchBreadth"/> changes it on a built index.</summary>
    public int SearchBreadth { get; set; } = 64;

    /// <summary>How vectors are stored. Default <see cref="IndexPrecision.Float32"/>; <see cref="IndexPrecision.Int8"/> is for <see cref="IndexMetric.Cosine"/> only.</summary>
    public IndexPrecision Precision { get; set; } = IndexPrecision.Float32;

    /// <summary>Threads for bulk additions and many-query searches; 0 (the default) for every core, at most 1,024.</summary>
    public int Threads { get; set; }

    /// <summary>Checks every setting and names the first one that is wrong.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        if (Connectivity is < 2 or > 256)
            throw new ArgumentOutOfRangeException(nameof(Connectivity), Connectivity, "ApproximateIndexOptions.Connectivity must be between 2 and 256.");
        if (BuildBreadth is < 1 or > LargestBreadth)
            throw new ArgumentOutOfRangeException(nameof(BuildBreadth), BuildBreadth, $"ApproximateIndexOptions.BuildBreadth must be between 1 and {LargestBreadth}.");
        if (SearchBreadth is < 1 or > LargestBreadth)
            throw new ArgumentOutOfRangeException(nameof(SearchBreadth), SearchBreadth, $"ApproximateIndexOptions.SearchBreadth must be between 1 and {LargestBreadth}.");
        if (!Enum.IsDefined(Precision))
            throw new ArgumentOutOfRangeException(nameof(Precision), Precision, "ApproximateIndexOptions.Precision must be Float32, Float16 or Int8.");
        if (Threads is < 0 or > 1024)
            throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "ApproximateIndexOptions.Threads must be between 0 (every core) and 1,024.");
    }

    /// <summary>A copy of these settings.</summary>
    /// <returns>A new object with the same values.</returns>
    public ApproximateIndexOptions Clone() => (ApproximateIndexOptions)MemberwiseClone();
}
