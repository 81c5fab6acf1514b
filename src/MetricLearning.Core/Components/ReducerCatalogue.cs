using System;
using System.Collections.Generic;
using System.Linq;
using MetricLearning.Reducers;

namespace MetricLearning.Components;

/// <summary>
/// Every reducer of the library by name, as the retrieval samples' <c>--reducer</c> and configuration choose one:
/// "default" keeps each loss's own; "threshold" takes its bounds; "class-weighted" weighs each class by the inverse of
/// its share of the training labels, so that rare classes count as much as common ones.
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
public static class ReducerCatalogue
{
    /// <summary>Every reducer's name and description, in the catalogue's order.</summary>
    public static IReadOnlyList<CatalogueEntry> Entries { get; } = new CatalogueEntry[]
    {
        new("default", "the loss's own reducer (pytorch-metric-learning's default for that loss)"),
        new("mean", "MeanReducer: the mean of the values that count"),
        new("avg-non-zero", "AvgNonZeroReducer: the mean of the values above 0"),
        new("sum", "SumReducer: the sum"),
        new("threshold", "ThresholdReducer: the mean of the values strictly between a low and a high bound"),
        new("per-anchor", "PerAnchorReducer: the mean per anchor, then the mean over anchors"),
        new("class-weighted", "ClassWeightedReducer: the mean, each value weighted by the inverse frequency of its anchor's class"),
        new("divisor", "DivisorReducer: the sum over the divisor the loss names (Proxy-Anchor, margin loss)"),
    };

    /// <summary>Every reducer's name.</summary>
    public static IReadOnlyList<string> Names { get; } = Entries.Select(entry => entry.Name).ToList();

    /// <summary>Builds the reducer of that name.</summary>
    /// <param name="name">A name from <see cref="Names"/>.</param>
    /// <param name="low">The threshold reducer's low bound; null for none.</param>
    /// <param name="high">The threshold reducer's high bound; null for none.</param>
    /// <param name="trainingLabels">The training labels, for "class-weighted" (class c weighs <c>N / (classes · count_c)</c>); unused otherwise.</param>
    /// <returns>The reducer, or null for "default".</returns>
    /// <exception cref="ArgumentException">No reducer has that name (the message lists them), "threshold" has no bound, or "class-weighted" has no labels.</exception>
    public static IReducer? Create(string name, double? low = null, double? high = null, IReadOnlyList<int>? trainingLabels = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name switch
        {
            "default" => null,
            "mean" => new MeanReducer(),
            "avg-non-zero" => new AvgNonZeroReducer(),
            "sum" => new SumReducer(),
            "threshold" => low is null && high is null
                ? throw new ArgumentException("The threshold reducer needs a low or a high bound.", nameof(low))
                : new ThresholdReducer(low, high),
            "per-anchor" => new PerAnchorReducer(),
            "class-weighted" => new ClassWeightedReducer(InverseFrequencies(trainingLabels ?? throw new ArgumentException("The class-weighted reducer needs the training labels.", nameof(trainingLabels)))),
            "divisor" => new DivisorReducer(),
            _ => throw new ArgumentException($"There is no reducer named '{name}'. The reducers are: {string.Join(", ", Names)}.", nameof(name)),
        };
    }

    private static double[] InverseFrequencies(IReadOnlyList<int> labels)
    {
        if (labels.Count == 0)
            throw new ArgumentException("The class-weighted reducer needs at least one training label.", nameof(labels));
        if (labels.Any(label => label < 0))
            throw new ArgumentException("The class-weighted reducer needs class numbers from 0.", nameof(labels));
        var counts = new double[labels.Max() + 1];
        foreach (int label in labels)
            counts[label]++;
        int present = counts.Count(count => count > 0);
        return counts.Select(count => count > 0 ? labels.Count / (present * count) : 0).ToArray();
    }
}
