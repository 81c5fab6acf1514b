using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace MetricLearning;

/// <summary>How saved descriptions are written and read.</summary>
internal static class SavedJson
{
    /// <summary>
    /// Enums by name ("Relu"), so that files read well and survive reordered enums (numbers still read); every
    /// constructor parameter present (records such as the model description), so that a missing threshold cannot load
    /// as 0. Option classes with settable properties take their defaults for a missing field.
    /// </summary>
    internal static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
    };

    /// <summary>Named numbers as the JSON object a saved description holds them in.</summary>
    internal static JsonObject Node(IReadOnlyDictionary<string, double> values) =>
        new(values.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)JsonValue.Create(p.Value))));

    /// <summary>Settings saved as a JSON object of numbers, as a dictionary; none for null.</summary>
    /// <exception cref="InvalidDataException">The settings are not an object of numbers.</exception>
    internal static Dictionary<string, double> Numbers(JsonNode? settings, string part, string source)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        if (settings is null)
            return values;
        if (settings is not JsonObject entries)
            throw new InvalidDataException($"'{source}': the settings of {part} are not an object of named numbers.");
        foreach (var (key, value) in entries)
        {
            if (value is not JsonValue number || !number.TryGetValue(out double parsed))
                throw new InvalidDataException($"'{source}': the setting '{key}' of {part} is not a number.");
            values[key] = parsed;
        }

        return values;
    }

    /// <summary>Text for messages: <c>LpDistance(normalize=1, p=2)</c>, settings in name order.</summary>
    internal static string Text(string name, IReadOnlyDictionary<string, double> settings) => settings.Count == 0
        ? name
        : name + "(" + string.Join(", ", settings.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => p.Key + "=" + p.Value.ToString("R", CultureInfo.InvariantCulture))) + ")";
}
