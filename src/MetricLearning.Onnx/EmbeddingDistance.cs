using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MetricLearning.Onnx;

/// <summary>
/// The distance a model was trained with, computed on plain embeddings (no torch): Euclidean (with its floor),
/// squared Euclidean, Lp, cosine distance and similarity, dot product (each optionally on L2-normalised rows),
/// as MetricLearning's distances of the same names compute them (in double precision).
/// </summary>
/// <remarks>Immutable and thread-safe.</remarks>
public sealed class EmbeddingDistance
{
    /// <summary>Norms below this count as it when rows are normalised, as in the library's distances.</summary>
    private const double NormFloor = 1e-12;

    private static readonly string[] Known =
        { "EuclideanDistance", "SquaredEuclideanDistance", "LpDistance", "CosineDistance", "CosineSimilarity", "DotProductSimilarity" };

    private readonly Func<ReadOnlySpan<float>, ReadOnlySpan<float>, double> _compute;

    private EmbeddingDistance(string name, IReadOnlyDictionary<string, double> settings, bool isSimilarity, Func<ReadOnlySpan<float>, ReadOnlySpan<float>, double> compute)
    {
        Name = name;
        Settings = settings;
        IsSimilarity = isSimilarity;
        _compute = compute;
    }

    /// <summary>The distance's name, as the library calls it (<c>CosineSimilarity</c>).</summary>
    public string Name { get; }

    /// <summary>Its settings as saved (<c>floor</c>, <c>p</c>, <c>normalize</c> as 1 or 0).</summary>
    public IReadOnlyDictionary<string, double> Settings { get; }

    /// <summary>True when larger means more alike (a similarity), false for a distance.</summary>
    public bool IsSimilarity { get; }

    /// <summary>The distance (or similarity) between two embeddings.</summary>
    /// <param name="first">One embedding.</param>
    /// <param name="second">Another, of the same length.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentException">The embeddings differ in length or are empty.</exception>
    public double Compute(ReadOnlySpan<float> first, ReadOnlySpan<float> second)
    {
        if (first.Length != second.Length || first.Length == 0)
            throw new ArgumentException($"The embeddings must be non-empty and of the same length; got {first.Length} and {second.Length}.", nameof(second));
        return _compute(first, second);
    }

    /// <inheritdoc />
    public override string ToString() => Settings.Count == 0 ? Name : $"{Name}({string.Join(", ", Settings.Select(s => $"{s.Key}={s.Value}"))})";

    /// <summary>The distance a file's <c>metriclearning.distance</c> property describes.</summary>
    /// <exception cref="InvalidDataException">The description is not valid, or names a distance that has no managed form here.</exception>
    internal static EmbeddingDistance FromDescription(string json, string source)
    {
        string name;
        var settings = new Dictionary<string, double>(StringComparer.Ordinal);
        try
        {
            var node = JsonNode.Parse(json)?.AsObject() ?? throw new InvalidDataException("it is empty");
            name = node["Type"]?.GetValue<string>() ?? throw new InvalidDataException("it names no type");
            foreach (var (key, value) in node["Settings"]?.AsObject() ?? new JsonObject())
                settings[key] = value?.GetValue<double>() ?? throw new InvalidDataException($"its setting '{key}' is null");
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or InvalidDataException)
        {
            throw new InvalidDataException($"'{source}' describes its distance as {json}, which is not valid: {ex.Message}.", ex);
        }

        double Get(string key, double fallback) => settings.TryGetValue(key, out double value) ? value : fallback;
        bool normalize = Get("normalize", 0) != 0;
        switch (name)
        {
            case "EuclideanDistance":
                double floor = Get("floor", 1e-7);
                if (!double.IsFinite(floor) || floor <= 0)
                    throw new InvalidDataException($"'{source}' gives its Euclidean distance the floor {floor}; it must be positive and finite.");
                double root = Math.Sqrt(floor);
                return new(name, settings, false, (a, b) => Math.Max(Math.Sqrt(SquaredDifference(a, b, false)), root));
            case "SquaredEuclideanDistance":
                return new(name, settings, false, (a, b) => SquaredDifference(a, b, normalize));
            case "LpDistance":
                double p = Get("p", 2);
                if (!double.IsFinite(p) || p < 1)
                    throw new InvalidDataException($"'{source}' gives its Lp distance the order p = {p}; it must be finite and at least 1.");
                return new(name, settings, false, (a, b) => Lp(a, b, p, normalize));
            case "CosineDistance":
                return new(name, settings, false, (a, b) => 1 - Dot(a, b, true));
            case "CosineSimilarity":
                return new(name, settings, true, (a, b) => Dot(a, b, true));
            case "DotProductSimilarity":
                return new(name, settings, true, (a, b) => Dot(a, b, normalize));
            default:
                throw new InvalidDataException(
                    $"'{source}' was trained with the distance {name}, which has no managed form here; the ONNX model serves {string.Join(", ", Known)}.");
        }
    }

    private static double Norm(ReadOnlySpan<float> row)
    {
        double sum = 0;
        foreach (float value in row)
            sum += (double)value * value;
        return Math.Max(Math.Sqrt(sum), NormFloor);
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b, bool normalize)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
            sum += (double)a[i] * b[i];
        return normalize ? sum / (Norm(a) * Norm(b)) : sum;
    }

    private static double SquaredDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b, bool normalize)
    {
        double na = normalize ? Norm(a) : 1, nb = normalize ? Norm(b) : 1, sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double difference = a[i] / na - b[i] / nb;
            sum += difference * difference;
        }

        return sum;
    }

    private static double Lp(ReadOnlySpan<float> a, ReadOnlySpan<float> b, double p, bool normalize)
    {
        double na = normalize ? Norm(a) : 1, nb = normalize ? Norm(b) : 1, sum = 0;
        for (int i = 0; i < a.Length; i++)
            sum += Math.Pow(Math.Abs(a[i] / na - b[i] / nb), p);
        return Math.Pow(sum, 1 / p);
    }
}
