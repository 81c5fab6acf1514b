using System.Collections.Generic;
using System.IO;
using MetricLearning.Data;
using MetricLearning.Distances;

namespace MetricLearning.Models;

/// <summary>
/// How models and indexes describe their distance and preprocessing in a file, and rebuild them: the library's own
/// by name and settings, a user's own by full type name through <see cref="ModelComponents"/>.
/// </summary>
internal static class SavedParts
{
    internal const string InputScalingName = nameof(InputScaling);

    internal static (string Name, Dictionary<string, double> Parameters) Describe(IDistance distance)
    {
        if (!DistanceDescription.TryDescribe(distance, out string name, out var parameters))
            name = ModelComponents.TypeName(distance.GetType());
        return (name, parameters);
    }

    internal static (string Name, Dictionary<string, double>? Parameters) Describe(IInputPreprocessing preprocessing) => preprocessing switch
    {
        InputScaling s when s.GetType() == typeof(InputScaling) => (InputScalingName,
            new Dictionary<string, double> { ["scale"] = s.Scale, ["mean"] = s.Mean, ["std"] = s.StandardDeviation }),
        _ => (ModelComponents.TypeName(preprocessing.GetType()), null),
    };

    /// <exception cref="InvalidDataException">The distance is unknown and no factory builds it, or its settings are invalid.</exception>
    internal static IDistance CreateDistance(string name, IReadOnlyDictionary<string, double>? parameters, ModelComponents? components, string source)
        => DistanceDescription.IsLibraryName(name)
            ? DistanceDescription.Create(name, parameters ?? new Dictionary<string, double>(), source)
            : (components ?? new ModelComponents()).Create<IDistance>(name, "distance", source);

    /// <exception cref="InvalidDataException">The preprocessing is unknown and no factory builds it, or its settings are invalid.</exception>
    internal static IInputPreprocessing CreatePreprocessing(string name, IReadOnlyDictionary<string, double>? parameters, ModelComponents? components, string source)
    {
        if (name != InputScalingName)
            return (components ?? new ModelComponents()).Create<IInputPreprocessing>(name, "preprocessing", source);
        double Get(string key) => parameters is not null && parameters.TryGetValue(key, out double value)
            ? value
            : throw new InvalidDataException($"'{source}': the input scaling lacks its '{key}' setting.");
        try
        {
            return new InputScaling((float)Get("scale"), (float)Get("mean"), (float)Get("std"));
        }
        catch (System.ArgumentException ex)
        {
            throw new InvalidDataException($"'{source}': invalid input scaling: {ex.Message}", ex);
        }
    }
}
