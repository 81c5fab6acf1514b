using System;
using System.Collections.Generic;
using System.Linq;

namespace MetricLearning.Networks;

/// <summary>
/// A weights file does not fit the module it was loaded into: tensors the module has and the file lacks, tensors the
/// file has and the module lacks, or tensors whose shapes differ. Nothing was loaded.
/// </summary>
public sealed class WeightsMismatchException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The weights file.</param>
    /// <param name="missing">Module keys the file lacks (as the file would name them).</param>
    /// <param name="unexpected">File keys the module lacks.</param>
    /// <param name="mismatched">One line per tensor whose shape or kind differs: key, file's shape, module's shape.</param>
    public WeightsMismatchException(string path, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> mismatched)
        : base(Describe(path, missing, unexpected, mismatched))
    {
        FilePath = path;
        Missing = missing;
        Unexpected = unexpected;
        Mismatched = mismatched;
    }

    /// <summary>The weights file.</summary>
    public string FilePath { get; }

    /// <summary>Module keys the file lacks (as the file would name them).</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>File keys the module lacks.</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>One line per tensor whose shape or kind differs.</summary>
    public IReadOnlyList<string> Mismatched { get; }

    private static string Describe(string path, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> mismatched)
    {
        static string List(IReadOnlyList<string> keys) =>
            string.Join(", ", keys.Take(5)) + (keys.Count > 5 ? $" and {keys.Count - 5} more" : "");

        var parts = new List<string>();
        if (missing.Count > 0)
            parts.Add($"missing {missing.Count} tensor(s): {List(missing)}");
        if (unexpected.Count > 0)
            parts.Add($"{unexpected.Count} unexpected tensor(s): {List(unexpected)}");
        if (mismatched.Count > 0)
            parts.Add($"{mismatched.Count} mismatched tensor(s): {List(mismatched)}");
        return $"'{path}' does not fit the network ({string.Join("; ", parts)}); nothing was loaded. " +
               "Use PyTorchWeightsOptions.KeyPrefix when the file's names carry a prefix, IgnoredKeys to leave tensors out on purpose.";
    }
}
