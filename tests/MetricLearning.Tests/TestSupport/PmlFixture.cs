using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using FluentAssertions;
using static TorchSharp.torch;

namespace MetricLearning.Tests.TestSupport;

/// <summary>
/// Reads the expected values pytorch-metric-learning's own code produced (tests/pml-reference/*.py, run with Debian's
/// python3-torch; JSON files in Core/Losses/Fixtures) and compares ours with them, within 1e-5 relative.
/// </summary>
internal static class PmlFixture
{
    /// <summary>The fixture file of that name, in tests/MetricLearning.Tests/Core/Losses/Fixtures.</summary>
    internal static JsonElement Load(string fileName) => JsonDocument.Parse(File.ReadAllText(
        Path.Combine(Repository.Root, "tests", "MetricLearning.Tests", "Core", "Losses", "Fixtures", fileName))).RootElement;

    /// <summary>One theory row per entry of a section: its index and a description for the test's name.</summary>
    internal static IEnumerable<object[]> Cases(JsonElement fixture, string section) => fixture.GetProperty(section).EnumerateArray()
        .Select((entry, i) => new object[] { i, Describe(entry) });

    internal static string Describe(JsonElement entry) =>
        $"{entry.GetProperty("name").GetString()} {entry.GetProperty("settings").GetRawText()} on {entry.GetProperty("input").GetString()}";

    /// <summary>An entry's input: its own embeddings and labels if it carries them, else the named input set.</summary>
    internal static (Tensor Embeddings, Tensor Labels) Input(JsonElement fixture, JsonElement entry) =>
        entry.TryGetProperty("embeddings", out _) ? Input(entry) : Input(fixture.GetProperty("inputs").GetProperty(entry.GetProperty("input").GetString()!));

    /// <summary>float64 embeddings and int64 labels from an object with "embeddings" and "labels".</summary>
    internal static (Tensor Embeddings, Tensor Labels) Input(JsonElement input)
    {
        var embeddings = Matrix(input.GetProperty("embeddings"));
        var labels = tensor(input.GetProperty("labels").EnumerateArray().Select(v => v.GetInt64()).ToArray());
        return (embeddings, labels);
    }

    /// <summary>A float64 matrix from a JSON array of rows.</summary>
    internal static Tensor Matrix(JsonElement rows)
    {
        var values = rows.EnumerateArray().Select(row => row.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        return tensor(values.SelectMany(row => row).ToArray(), new long[] { values.Length, values[0].Length }, ScalarType.Float64);
    }

    /// <summary>The numbers of a JSON array, flattened.</summary>
    internal static double[] Flat(JsonElement array) => array.ValueKind == JsonValueKind.Array
        ? array.EnumerateArray().SelectMany(Flat).ToArray()
        : new[] { array.GetDouble() };

    /// <summary>A setting of an entry, as a number.</summary>
    internal static double Number(JsonElement settings, string name) => settings.GetProperty(name).GetDouble();

    /// <summary>A setting of an entry, as a number, or the fallback when the entry does not name it.</summary>
    internal static double Number(JsonElement settings, string name, double fallback) =>
        settings.TryGetProperty(name, out var value) ? value.GetDouble() : fallback;

    internal static void ShouldBeClose(double actual, double expected, string what) =>
        Math.Abs(actual - expected).Should().BeLessThanOrEqualTo(1e-5 * Math.Abs(expected) + 1e-12, $"{what}: ours {actual:R}, PML's {expected:R}");

    /// <summary>Every element of <paramref name="actual"/> (float64) against the expected JSON array.</summary>
    internal static void ShouldMatch(Tensor? actual, JsonElement expected, string what)
    {
        var values = Flat(expected);
        var ours = actual is null ? new double[values.Length] : actual.detach().cpu().contiguous().flatten().data<double>().ToArray();
        ours.Should().HaveCount(values.Length, what);
        for (int i = 0; i < values.Length; i++)
            ShouldBeClose(ours[i], values[i], $"{what}, element {i}");
    }

    /// <summary>Runs <paramref name="create"/> with float64 as torch's default dtype (so weights a loss draws are float64), then restores it.</summary>
    internal static T WithFloat64Default<T>(Func<T> create)
    {
        var previous = get_default_dtype();
        set_default_dtype(ScalarType.Float64);
        try
        {
            return create();
        }
        finally
        {
            set_default_dtype(previous);
        }
    }
}
