using System;
using System.Collections.Generic;
using System.Linq;
using MetricLearning.Mining;

namespace MetricLearning.Components;

/// <summary>
/// Every miner of the library by name, with its defaults, as the retrieval samples' <c>--miner</c> and configuration
/// choose one. "none" is no miner; the random miners are seeded from the run's seed.
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
public static class MinerCatalogue
{
    private sealed record Recipe(string Description, Func<IDistance, long, IMiner?> Create);

    private static readonly IReadOnlyDictionary<string, Recipe> Recipes = new Dictionary<string, Recipe>(StringComparer.Ordinal)
    {
        ["none"] = new("no miner: the loss uses every pair or triplet of the batch", (d, s) => null),
        ["multi-similarity"] = new("MultiSimilarityMiner (Wang et al., CVPR 2019): ε 0.1", (d, s) => new MultiSimilarityMiner(distance: d)),
        ["batch-hard"] = new("BatchHardMiner (Hermans et al., 2017): the hardest positive and negative of each anchor", (d, s) => new BatchHardMiner(d)),
        ["semi-hard"] = new("SemiHardMiner (Schroff et al., CVPR 2015): the closest negative beyond each positive, within margin 0.2", (d, s) => new SemiHardMiner(distance: d)),
        ["pair-margin"] = new("PairMarginMiner: pairs violating margins 0.2 and 0.8 (0.8 and 0.2 on a similarity)",
            (d, s) => d.IsSimilarity ? new PairMarginMiner(0.8, 0.2, d) : new PairMarginMiner(distance: d)),
        ["triplet-all"] = new("TripletMarginMiner: every triplet violating margin 0.2", (d, s) => new TripletMarginMiner(distance: d)),
        ["triplet-hard"] = new("TripletMarginMiner: hard triplets (negative nearer than the positive)", (d, s) => new TripletMarginMiner(difficulty: TripletDifficulty.Hard, distance: d)),
        ["triplet-semihard"] = new("TripletMarginMiner: semi-hard triplets (negative beyond the positive, within margin 0.2)", (d, s) => new TripletMarginMiner(difficulty: TripletDifficulty.SemiHard, distance: d)),
        ["triplet-easy"] = new("TripletMarginMiner: easy triplets (negative beyond the margin)", (d, s) => new TripletMarginMiner(difficulty: TripletDifficulty.Easy, distance: d)),
        ["batch-easy-hard"] = new("BatchEasyHardMiner (Xuan et al., WACV 2020): the easiest positive and a semi-hard negative per anchor", (d, s) => new BatchEasyHardMiner(distance: d)),
        ["angular"] = new("AngularMiner (Wang et al., ICCV 2017): triplets whose angle at the negative exceeds 20°", (d, s) => new AngularMiner()),
        ["distance-weighted"] = new("DistanceWeightedMiner (Wu et al., ICCV 2017): negatives drawn inversely to the density of distances, cutoff 0.5", (d, s) => new DistanceWeightedMiner(seed: s)),
        ["uniform-histogram"] = new("UniformHistogramMiner: pairs drawn evenly across 100 bins of distance", (d, s) => new UniformHistogramMiner(distance: d, seed: s)),
    };

    /// <summary>Every miner's name and description, in the catalogue's order.</summary>
    public static IReadOnlyList<CatalogueEntry> Entries { get; } = Recipes.Select(pair => new CatalogueEntry(pair.Key, pair.Value.Description)).ToList();

    /// <summary>Every miner's name.</summary>
    public static IReadOnlyList<string> Names { get; } = Recipes.Keys.ToList();

    /// <summary>The name that stands for the miner the loss's paper trains with (<see cref="LossCatalogue.PaperMinerFor"/>), "none" when it uses none.</summary>
    public const string Auto = "auto";

    /// <summary>The miner a name stands for beside a loss: the name itself, or for <see cref="Auto"/> the loss's paper's miner ("none" when it uses none).</summary>
    /// <param name="name">A name from <see cref="Names"/>, or <see cref="Auto"/>.</param>
    /// <param name="loss">A name from <see cref="LossCatalogue.Names"/>.</param>
    /// <returns>A name from <see cref="Names"/> (unchecked unless <paramref name="name"/> is <see cref="Auto"/>).</returns>
    /// <exception cref="ArgumentException">The name is <see cref="Auto"/> and no loss has the loss's name.</exception>
    public static string Resolve(string name, string loss)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name == Auto ? LossCatalogue.PaperMinerFor(loss) ?? "none" : name;
    }

    /// <summary>Builds the miner of that name with its defaults.</summary>
    /// <param name="name">A name from <see cref="Names"/>.</param>
    /// <param name="comparison">How the miner compares embeddings: the loss's comparison (<see cref="LossCatalogue.ComparisonFor"/>). The angular and distance-weighted miners use their own, as their papers define them.</param>
    /// <param name="seed">Seeds the random miners (distance-weighted, uniform-histogram).</param>
    /// <returns>The miner, or null for "none".</returns>
    /// <exception cref="ArgumentException">No miner has that name (the message lists them).</exception>
    public static IMiner? Create(string name, IDistance comparison, long seed = 0)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(comparison);
        return Recipes.TryGetValue(name, out var recipe)
            ? recipe.Create(comparison, seed)
            : throw new ArgumentException($"There is no miner named '{name}'. The miners are: {string.Join(", ", Recipes.Keys)}.", nameof(name));
    }
}
