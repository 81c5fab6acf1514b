using System;
using System.Collections.Generic;
using System.Linq;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Mining;

namespace MetricLearning.Components;

/// <summary>
/// Every batch loss of the library by name, with its defaults (pytorch-metric-learning's, unless the class says
/// otherwise): how the retrieval samples' <c>--loss</c> and configuration (<c>MetricLearningOptions.BatchLoss</c>)
/// choose one. Each name also gives the comparison the loss is defined on (for mining and evaluation) and the miner
/// its paper trains with, if any.
/// </summary>
/// <remarks>
/// Losses composed of others (<see cref="MultipleLosses"/>, a <see cref="CrossBatchMemory"/> around another loss) are
/// built in code; "xbm" is the cross-batch-memory paper's own setting (a contrastive loss on cosine similarity, margin
/// 0.5, over a memory of 2,048 embeddings). Stateless and thread-safe.
/// </remarks>
public static class LossCatalogue
{
    private sealed record Recipe(string Description, Func<LossContext, IReducer?, IBatchLoss> Create, Func<IDistance> Comparison, string? PaperMiner = null);

    private static readonly IReadOnlyDictionary<string, Recipe> Recipes = new Dictionary<string, Recipe>(StringComparer.Ordinal)
    {
        ["multi-similarity"] = new("MultiSimilarityLoss (Wang et al., CVPR 2019): α 2, β 50, λ 0.5 on cosine similarity; its miner",
            (c, r) => new MultiSimilarityLoss(reducer: r), Cosine, "multi-similarity"),
        ["triplet"] = new("TripletMarginLoss (Schroff et al., CVPR 2015): margin 0.2 on the Euclidean distance of normalised embeddings; semi-hard mining",
            (c, r) => new TripletMarginLoss(reducer: r), NormalizedEuclidean, "semi-hard"),
        ["contrastive"] = new("ContrastiveBatchLoss (Hadsell et al., CVPR 2006): squared hinges, margins 0 and 1, on the Euclidean distance of normalised embeddings",
            (c, r) => new ContrastiveBatchLoss(distance: new LpDistance(2, normalize: true), reducer: r), NormalizedEuclidean),
        ["margin-contrastive"] = new("MarginContrastiveLoss (pytorch-metric-learning's ContrastiveLoss): plain hinges, margins 0 and 1, average of non-zero",
            (c, r) => new MarginContrastiveLoss(reducer: r), NormalizedEuclidean),
        ["supcon"] = new("SupConLoss (Khosla et al., NeurIPS 2020): temperature 0.1 on cosine similarity",
            (c, r) => new SupConLoss(reducer: r), Cosine),
        ["ntxent"] = new("NTXentLoss (Chen et al., ICML 2020): temperature 0.07 on cosine similarity",
            (c, r) => new NTXentLoss(reducer: r), Cosine),
        ["circle"] = new("CircleLoss (Sun et al., CVPR 2020): m 0.4, γ 80 on cosine similarity",
            (c, r) => new CircleLoss(reducer: r), Cosine),
        ["lifted-structure"] = new("LiftedStructureLoss (Oh Song et al., CVPR 2016): negative margin 1",
            (c, r) => new LiftedStructureLoss(reducer: r), NormalizedEuclidean),
        ["generalized-lifted-structure"] = new("GeneralizedLiftedStructureLoss (Hermans et al., 2017): negative margin 1",
            (c, r) => new GeneralizedLiftedStructureLoss(reducer: r), NormalizedEuclidean),
        ["n-pairs"] = new("NPairsLoss (Sohn, NeurIPS 2016): one pair per class, softmax over the dot products of normalised embeddings",
            (c, r) => new NPairsLoss(reducer: r), Cosine),
        ["tuplet-margin"] = new("TupletMarginLoss (Yu and Tao, ICCV 2019): margin 0.1 rad, scale 64",
            (c, r) => new TupletMarginLoss(reducer: r), Cosine),
        ["intra-pair-variance"] = new("IntraPairVarianceLoss (Yu and Tao, ICCV 2019): ε 0.01 and 0.01 on cosine similarity",
            (c, r) => new IntraPairVarianceLoss(reducer: r), Cosine),
        ["tuplet-margin+intra-pair-variance"] = new("MultipleLosses: TupletMarginLoss plus 0.5 × IntraPairVarianceLoss, the two losses of Yu and Tao (ICCV 2019) trained together, weighted as pytorch-metric-learning's documentation combines them",
            (c, r) => new MultipleLosses(new IBatchLoss[] { new TupletMarginLoss(reducer: r), new IntraPairVarianceLoss(reducer: r) }, new[] { 1.0, 0.5 }), Cosine),
        ["snr-contrastive"] = new("SignalToNoiseRatioContrastiveLoss (Yuan et al., CVPR 2019): margins 0 and 1 on the SNR distance",
            (c, r) => new SignalToNoiseRatioContrastiveLoss(reducer: r), () => new SnrDistance()),
        ["margin"] = new("MarginLoss (Wu et al., ICCV 2017): margin 0.2, β 1.2 fixed; distance-weighted sampling",
            (c, r) => new MarginLoss(reducer: r), NormalizedEuclidean, "distance-weighted"),
        ["fastap"] = new("FastApLoss (Cakir et al., CVPR 2019): 10 bins",
            (c, r) => new FastApLoss(reducer: r), NormalizedEuclidean),
        ["histogram"] = new("HistogramLoss (Ustinova and Lempitsky, NeurIPS 2016): 100 bins on cosine similarity",
            (c, r) => new HistogramLoss(), Cosine),
        ["proxy-anchor"] = new("ProxyAnchorLoss (Kim et al., CVPR 2020): α 32, δ 0.1, proxies at 100× the learning rate",
            (c, r) => new ProxyAnchorLoss(c.Classes, c.EmbeddingSize, device: c.Device, reducer: r), Cosine),
        ["proxy-nca"] = new("ProxyNcaLoss (Movshovitz-Attias et al., ICCV 2017): softmax scale 1",
            (c, r) => new ProxyNcaLoss(c.Classes, c.EmbeddingSize, device: c.Device, reducer: r), Cosine),
        ["arcface"] = new("ArcFaceLoss (Deng et al., CVPR 2019): margin 0.5 rad, scale 64",
            (c, r) => new ArcFaceLoss(c.Classes, c.EmbeddingSize, device: c.Device, reducer: r), Cosine),
        ["subcenter-arcface"] = new("SubCenterArcFaceLoss (Deng et al., ECCV 2020): 3 sub-centres, margin 0.5 rad, scale 64",
            (c, r) => new SubCenterArcFaceLoss(c.Classes, c.EmbeddingSize, device: c.Device, reducer: r), Cosine),
        ["cosface"] = new("CosFaceLoss (Wang et al., CVPR 2018): margin 0.35, scale 64",
            (c, r) => new CosFaceLoss(c.Classes, c.EmbeddingSize, device: c.Device, reducer: r), Cosine),
        ["normalized-softmax"] = new("NormalizedSoftmaxLoss (Zhai and Wu, BMVC 2019): temperature 0.05",
            (c, r) => new NormalizedSoftmaxLoss(c.Classes, c.EmbeddingSize, device: c.Device, reducer: r), Cosine),
        ["soft-triple"] = new("SoftTripleLoss (Qian et al., ICCV 2019): 10 centres per class, λ 20, γ 0.1, margin 0.01",
            (c, r) => new SoftTripleLoss(c.Classes, c.EmbeddingSize, device: c.Device, reducer: r), Cosine),
        ["xbm"] = new("CrossBatchMemory (Wang et al., CVPR 2020) around MarginContrastiveLoss on cosine similarity (margins 1 and 0.5), memory 2,048",
            (c, r) => new CrossBatchMemory(new MarginContrastiveLoss(1, 0.5, new CosineSimilarity(), r), c.EmbeddingSize, memorySize: 2048, device: c.Device), Cosine),
    };

    /// <summary>Every loss's name and description, in the catalogue's order.</summary>
    public static IReadOnlyList<CatalogueEntry> Entries { get; } = Recipes.Select(pair => new CatalogueEntry(pair.Key, pair.Value.Description)).ToList();

    /// <summary>Every loss's name.</summary>
    public static IReadOnlyList<string> Names { get; } = Recipes.Keys.ToList();

    /// <summary>Builds the loss of that name with its defaults.</summary>
    /// <param name="name">A name from <see cref="Names"/>.</param>
    /// <param name="context">Classes, embedding size, device and seed.</param>
    /// <param name="reducer">The reducer; null for the loss's default. "histogram" and "xbm" take it as stated in their descriptions.</param>
    /// <returns>The loss; dispose it when it is <see cref="IDisposable"/> (losses with weights of their own or a memory).</returns>
    /// <exception cref="ArgumentException">No loss has that name (the message lists them).</exception>
    /// <exception cref="ArgumentOutOfRangeException">The context has no embedding width, or fewer than two classes for a loss with one vector per class.</exception>
    public static IBatchLoss Create(string name, LossContext context, IReducer? reducer = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Validate();
        return Find(name).Create(context, reducer);
    }

    /// <summary>The comparison the loss of that name is defined on: what its miner and the evaluation use.</summary>
    /// <param name="name">A name from <see cref="Names"/>.</param>
    /// <exception cref="ArgumentException">No loss has that name.</exception>
    public static IDistance ComparisonFor(string name) => Find(name).Comparison();

    /// <summary>The name (in <see cref="MinerCatalogue"/>) of the miner the loss's paper trains with, or null for none.</summary>
    /// <param name="name">A name from <see cref="Names"/>.</param>
    /// <exception cref="ArgumentException">No loss has that name.</exception>
    public static string? PaperMinerFor(string name) => Find(name).PaperMiner;

    private static Recipe Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Recipes.TryGetValue(name, out var recipe)
            ? recipe
            : throw new ArgumentException($"There is no loss named '{name}'. The losses are: {string.Join(", ", Recipes.Keys)}.", nameof(name));
    }

    private static IDistance Cosine() => new CosineSimilarity();

    private static IDistance NormalizedEuclidean() => new LpDistance(2, normalize: true);
}
