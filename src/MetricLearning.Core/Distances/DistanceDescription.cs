using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace MetricLearning.Distances;

/// <summary>
/// The library's distances as a name and numeric settings, so that saved models and indexes can restore the exact
/// distance they were built with (a <see cref="LpDistance"/> with p = 1 is not one with p = 2).
/// </summary>
internal static class DistanceDescription
{
    /// <summary>The name and settings of one of the library's distances; false for a distance of the user's own.</summary>
    internal static bool TryDescribe(IDistance distance, out string name, out Dictionary<string, double> parameters)
    {
        (string, Dictionary<string, double>)? described = distance switch
        {
            EuclideanDistance d => (nameof(EuclideanDistance), new() { ["floor"] = d.Floor }),
            SquaredEuclideanDistance d => (nameof(SquaredEuclideanDistance), new() { ["normalize"] = d.Normalize ? 1 : 0 }),
            LpDistance d => (nameof(LpDistance), new() { ["p"] = d.P, ["normalize"] = d.Normalize ? 1 : 0 }),
            CosineDistance => (nameof(CosineDistance), new()),
            CosineSimilarity => (nameof(CosineSimilarity), new()),
            DotProductSimilarity d => (nameof(DotProductSimilarity), new() { ["normalize"] = d.Normalize ? 1 : 0 }),
            _ => null,
        };
        (name, parameters) = described ?? (distance.GetType().FullName ?? distance.GetType().Name, new Dictionary<string, double>());
        return described is not null;
    }

    /// <summary>Whether <paramref name="name"/> is the saved name of one of the library's distances.</summary>
    internal static bool IsLibraryName(string name) => name is nameof(EuclideanDistance) or nameof(SquaredEuclideanDistance)
        or nameof(LpDistance) or nameof(CosineDistance) or nameof(CosineSimilarity) or nameof(DotProductSimilarity);

    /// <summary>Text for messages: <c>LpDistance(normalize=1, p=2)</c>, or the type name of a user's distance.</summary>
    internal static string Text(IDistance distance)
    {
        TryDescribe(distance, out string name, out var parameters);
        return Text(name, parameters);
    }

    /// <summary>Text for messages from a saved name and settings, settings in name order.</summary>
    internal static string Text(string name, IReadOnlyDictionary<string, double> parameters) => parameters.Count == 0
        ? name
        : name + "(" + string.Join(", ", parameters.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => p.Key + "=" + p.Value.ToString("R", CultureInfo.InvariantCulture))) + ")";

    /// <summary>Builds the distance a saved name and settings describe.</summary>
    /// <param name="name">The saved name.</param>
    /// <param name="parameters">The saved settings.</param>
    /// <param name="source">The file they were read from, for messages.</param>
    /// <exception cref="InvalidDataException">The name is unknown or a setting is missing or invalid.</exception>
    internal static IDistance Create(string name, IReadOnlyDictionary<string, double> parameters, string source)
    {
        double Get(string key) => parameters.TryGetValue(key, out double value)
            ? value
            : throw new InvalidDataException($"'{source}': distance {name} lacks its '{key}' setting.");
        try
        {
            return name switch
            {
                nameof(EuclideanDistance) => new EuclideanDistance(Get("floor")),
                nameof(SquaredEuclideanDistance) => new SquaredEuclideanDistance(Get("normalize") != 0),
                nameof(LpDistance) => new LpDistance(Get("p"), Get("normalize") != 0),
                nameof(CosineDistance) => new CosineDistance(),
                nameof(CosineSimilarity) => new CosineSimilarity(),
                nameof(DotProductSimilarity) => new DotProductSimilarity(Get("normalize") != 0),
                _ => throw new InvalidDataException(
                    $"'{source}' names the distance '{name}', which is not one of this library version's; pass that distance when loading."),
            };
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"'{source}': invalid settings for {Text(name, parameters)}: {ex.Message}", ex);
        }
    }
}
