using System;

namespace MetricLearning;

/// <summary>Where a saved part's settings come from, for its format's messages and checks.</summary>
public sealed class PartLoadContext
{
    /// <summary>Describes where settings are being read from.</summary>
    /// <param name="source">The file that holds the settings, named in every error.</param>
    /// <param name="weightsBytes">The size of the weights file the part's parameters will be loaded from, or null when there is none.</param>
    public PartLoadContext(string source, long? weightsBytes = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        Source = source;
        WeightsBytes = weightsBytes;
    }

    /// <summary>The file that holds the settings, named in every error.</summary>
    public string Source { get; }

    /// <summary>
    /// The size of the weights file the part's parameters are loaded from, or null when there is none (a distance, a
    /// preprocessing). A network's format checks its settings against it, so that a description cannot make the
    /// loader allocate layers far larger than the weights that come with it.
    /// </summary>
    public long? WeightsBytes { get; }
}
