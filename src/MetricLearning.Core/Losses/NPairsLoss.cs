using System.Collections.Generic;
using MetricLearning.Reducers;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// N-pair loss (Sohn, NeurIPS 2016): one same-class pair (a_c, p_c) is chosen per class c of the batch, and each
/// anchor must pick its own positive out of the chosen positives, a softmax cross-entropy:
/// <c>ℓ_c = −log( e^{S(a_c, p_c)} / Σ_{c'} e^{S(a_c, p_c')} )</c> on a similarity S (a distance is negated); the loss
/// is the mean over the chosen pairs.
/// </summary>
/// <remarks>
/// <para>
/// The choice is deterministic: for each class, the pair with the lowest anchor row that has a positive, and of that
/// anchor's positives the lowest row, among every same-class pair or the mined ones (a mined pair's class is its
/// anchor's label). pytorch-metric-learning's <c>NPairsLoss</c> takes the first pair of each class in the order of its
/// pair list; that list is in row order for every same-class pair and for <see cref="Mining.BatchHardMiner"/>'s
/// triplets, so the two agree there. A miner that lists an anchor's pairs in another order (pytorch-metric-learning's
/// multi-similarity miner sorts them by similarity) can make pytorch-metric-learning choose another positive.
/// </para>
/// <para>
/// Equals pytorch-metric-learning's <c>NPairsLoss</c>, with its default: the dot product of L2-normalised embeddings
/// (the cosine similarity; the paper uses the plain dot product with an L2 penalty on the embeddings, available as
/// <c>new DotProductSimilarity()</c> and an <see cref="BatchLoss.EmbeddingRegularizer"/>), and the mean.
/// </para>
/// <para>
/// One sub-loss, "anchors" (<see cref="LossTermKind.Element"/>, the chosen anchors counting), reduced by
/// <see cref="BatchLoss.Reducer"/> (<see cref="MeanReducer"/> by default). Uses only the same-class pairs of mined
/// indices. Stateless and thread-safe.
/// </para>
/// </remarks>
public sealed class NPairsLoss : BatchLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="distance">How embeddings are compared (a distance is negated); null for the dot product of L2-normalised embeddings.</param>
    /// <param name="reducer">How the chosen anchors' values become the loss; null for <see cref="MeanReducer"/>.</param>
    public NPairsLoss(IDistance? distance = null, IReducer? reducer = null)
        : base(reducer ?? new MeanReducer())
    {
        Distance = distance ?? new Distances.DotProductSimilarity(normalize: true);
    }

    /// <summary>How embeddings are compared.</summary>
    public IDistance Distance { get; }

    /// <inheritdoc />
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        using var scope = NewDisposeScope();
        var (positive, _) = BatchPairMasks.Create(embeddings, labels, mined);
        long n = embeddings.shape[0];
        var device = embeddings.device;
        var rows = arange(n, dtype: ScalarType.Int64, device: device);
        // Each row's first positive: the smallest column of its row in the mask (n where it has none).
        var columns = rows.unsqueeze(0).expand(n, n);
        var firstPositive = columns.masked_fill(positive.logical_not(), n).min(1).values;
        var hasPositive = positive.any(1);
        // A row is chosen when no earlier row of its class has a positive.
        var sameClass = labels.unsqueeze(1).eq(labels.unsqueeze(0));
        var earlier = ones(n, n, dtype: ScalarType.Bool, device: device).tril(-1);
        var taken = sameClass.logical_and(earlier).logical_and(hasPositive.unsqueeze(0)).any(1);
        var chosen = hasPositive.logical_and(taken.logical_not());
        var positives = embeddings.index_select(0, firstPositive.clamp_max(n - 1));
        var matrix = Distance.ComputeMatrix(embeddings, positives);
        var logits = Distance.IsSimilarity ? matrix : -matrix;
        // Row a against the chosen positives; its own (column a) is the target.
        var all = PairLossMath.MaskedLogSumExp(logits, chosen.unsqueeze(0).expand(n, n), 0);
        var values = all - logits.diagonal();
        return LossTerms.MoveToOuterDisposeScope(new LossTerms("anchors", LossTermKind.Element, values, valid: chosen));
    }
}
