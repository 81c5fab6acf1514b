using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MetricLearning.Distances;

/// <summary>
/// A distance (or similarity) between plain embeddings, without torch: Euclidean (with its floor), squared Euclidean,
/// Lp, cosine distance and similarity, dot product (each optionally on L2-normalised rows), as MetricLearning's
/// distances of the same names compute them (in double precision). Serving packages rebuild the distance a model was
/// trained with from its saved description (<see cref="FromJson"/>); indexes and vector stores search with it.
/// </summary>
/// <remarks>Immutable and thread-safe.</remarks>
public sealed class EmbeddingDistance
{
    /// <summary>Norms below this count as it when rows are normalised, as in the library's distances.</summary>
    internal const double NormFloor = 1e-12;

    private static readonly string[] Known =
        { "EuclideanDistance", "SquaredEuclideanDistance", "LpDistance", "CosineDistance", "CosineSimilarity", "DotProductSimilarity" };

    private readonly Func<ReadOnlySpan<float>, ReadOnlySpan<float>, double> _compute;

    private EmbeddingDistance(
        string name, IReadOnlyDictionary<string, double> settings, DistanceKind kind, bool normalize, double parameter,
        Func<ReadOnlySpan<float>, ReadOnlySpan<float>, double> compute)
    {
        Name = name;
        Settings = settings;
        Kind = kind;
        Normalize = normalize;
        Parameter = parameter;
        IsSimilarity = kind is DistanceKind.CosineSimilarity or DistanceKind.DotProduct;
        _compute = compute;
    }

    /// <summary>The names <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names => Known;

    /// <summary>The distance's name, as the library calls it (<c>CosineSimilarity</c>).</summary>
    public string Name { get; }

    /// <summary>Its settings as saved (<c>floor</c>, <c>p</c>, <c>normalize</c> as 1 or 0).</summary>
    public IReadOnlyDictionary<string, double> Settings { get; }

    /// <summary>True when larger means more alike (a similarity), false for a distance.</summary>
    public bool IsSimilarity { get; }

    /// <summary>Which formula, for the indexes' vectorised paths.</summary>
    internal DistanceKind Kind { get; }

    /// <summary>Whether rows are L2-normalised first (always for the cosine kinds).</summary>
    internal bool Normalize { get; }

    /// <summary>The Euclidean floor, or the order p of an Lp distance; 0 for the others.</summary>
    internal double Parameter { get; }

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

    /// <summary>The distance of one of the library's names with its settings, as a saved model or index file names them.</summary>
    /// <param name="name">One of <see cref="Names"/>.</param>
    /// <param name="settings">
    /// <c>floor</c> for <c>EuclideanDistance</c> (distances never fall below its square root; default 1e-7, 0 for none),
    /// <c>p</c> for <c>LpDistance</c> (at least 1; default 2), <c>normalize</c> (1 or 0; default 0) for the squared
    /// Euclidean, Lp and dot-product distances. Null for the defaults.
    /// </param>
    /// <returns>The distance.</returns>
    /// <exception cref="ArgumentException">The name is not one of <see cref="Names"/>, or a setting is out of range or not one the distance has.</exception>
    public static EmbeddingDistance Create(string name, IReadOnlyDictionary<string, double>? settings = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        var copy = new Dictionary<string, double>(settings ?? new Dictionary<string, double>(), StringComparer.Ordinal);
        string[] allowed = name switch
        {
            "EuclideanDistance" => new[] { "floor" },
            "SquaredEuclideanDistance" or "DotProductSimilarity" => new[] { "normalize" },
            "LpDistance" => new[] { "p", "normalize" },
            "CosineDistance" or "CosineSimilarity" => Array.Empty<string>(),
            _ => throw new ArgumentException($"There is no managed distance named '{name}'; the names are {string.Join(", ", Known)}.", nameof(name)),
        };
        foreach (var (key, value) in copy)
        {
            if (!allowed.Contains(key))
                throw new ArgumentException($"{name} has no setting '{key}'; its settings are {(allowed.Length == 0 ? "none" : string.Join(", ", allowed))}.", nameof(settings));
            if (!double.IsFinite(value))
                throw new ArgumentException($"{name}'s setting '{key}' is {value}; it must be finite.", nameof(settings));
        }

        double Get(string key, double fallback) => copy.TryGetValue(key, out double value) ? value : fallback;
        double normalizeSetting = Get("normalize", 0);
        if (normalizeSetting is not (0 or 1))
            throw new ArgumentException($"{name}'s setting 'normalize' is {normalizeSetting}; it must be 1 or 0.", nameof(settings));
        bool normalize = normalizeSetting == 1;
        switch (name)
        {
            case "EuclideanDistance":
                double floor = Get("floor", 1e-7);
                if (floor < 0)
                    throw new ArgumentException($"EuclideanDistance's floor is {floor}; it must be at least 0.", nameof(settings));
                double root = Math.Sqrt(floor);
                return new(name, copy, DistanceKind.Euclidean, false, floor, (a, b) => Math.Max(Math.Sqrt(SquaredDifference(a, b, false)), root));
            case "SquaredEuclideanDistance":
                return new(name, copy, DistanceKind.SquaredEuclidean, normalize, 0, (a, b) => SquaredDifference(a, b, normalize));
            case "LpDistance":
                double p = Get("p", 2);
                if (p < 1)
                    throw new ArgumentException($"LpDistance's order p is {p}; it must be at least 1.", nameof(settings));
                return new(name, copy, DistanceKind.Lp, normalize, p, (a, b) => Lp(a, b, p, normalize));
            case "CosineDistance":
                return new(name, copy, DistanceKind.CosineDistance, true, 0, (a, b) => 1 - Dot(a, b, true));
            case "CosineSimilarity":
                return new(name, copy, DistanceKind.CosineSimilarity, true, 0, (a, b) => Dot(a, b, true));
            default:
                return new(name, copy, DistanceKind.DotProduct, normalize, 0, (a, b) => Dot(a, b, normalize));
        }
    }

    /// <summary>
    /// The distance a saved description gives: <c>{"Type": name, "Settings": {name: number, ...}}</c>, as a model's
    /// <c>model.json</c> and an exported ONNX file's <c>metriclearning.distance</c> property hold it.
    /// </summary>
    /// <param name="json">The description.</param>
    /// <returns>The distance.</returns>
    /// <exception cref="FormatException">The text is not such a description.</exception>
    /// <exception cref="ArgumentException">It names a distance that has no managed form, or gives a setting out of range.</exception>
    public static EmbeddingDistance FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        string name;
        var settings = new Dictionary<string, double>(StringComparer.Ordinal);
        try
        {
            var node = JsonNode.Parse(json)?.AsObject() ?? throw new FormatException("it is empty");
            name = node["Type"]?.GetValue<string>() ?? throw new FormatException("it names no type");
            foreach (var (key, value) in node["Settings"]?.AsObject() ?? new JsonObject())
                settings[key] = value?.GetValue<double>() ?? throw new FormatException($"its setting '{key}' is null");
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw new FormatException($"The distance description {json} is not valid: {ex.Message}.", ex);
        }

        return Create(name, settings);
    }

    /// <summary>The <see cref="Norm"/> of a row as the normalising distances floor it.</summary>
    internal static double FlooredNorm(ReadOnlySpan<float> row) => Norm(row);

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
