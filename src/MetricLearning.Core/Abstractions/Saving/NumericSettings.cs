using System;
using System.Collections.Generic;
using System.IO;

namespace MetricLearning;

/// <summary>A saved part's settings as named numbers, read with messages that name the file and the missing setting.</summary>
public sealed class NumericSettings
{
    private readonly IReadOnlyDictionary<string, double> _values;
    private readonly string _part;

    /// <summary>Wraps saved settings.</summary>
    /// <param name="values">The settings by name.</param>
    /// <param name="part">The saved name of the part, for messages.</param>
    /// <param name="source">The file they were read from, for messages.</param>
    public NumericSettings(IReadOnlyDictionary<string, double> values, string part, string source)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(part);
        ArgumentNullException.ThrowIfNull(source);
        _values = values;
        _part = part;
        Source = source;
    }

    /// <summary>The file the settings were read from.</summary>
    public string Source { get; }

    /// <summary>The setting named <paramref name="key"/>.</summary>
    /// <param name="key">The setting's name.</param>
    /// <exception cref="InvalidDataException">The setting is missing.</exception>
    public double Get(string key) => _values.TryGetValue(key, out double value)
        ? value
        : throw new InvalidDataException($"'{Source}': {_part} lacks its '{key}' setting.");

    /// <summary>A yes/no setting (saved as 1 or 0; anything but 0 is yes).</summary>
    /// <param name="key">The setting's name.</param>
    /// <exception cref="InvalidDataException">The setting is missing.</exception>
    public bool GetFlag(string key) => Get(key) != 0;
}
