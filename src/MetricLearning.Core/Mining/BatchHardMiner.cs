using MetricLearning.Distances;
using static TorchSharp.torch;

namespace MetricLearning.Mining;

/// <summary>
/// Batch-hard triplet mining (Hermans, Beyer and Leibe, 2017): for each anchor, its farthest same-class sample and
/// its closest other-class sample, one triplet per anchor that has both.
/// </summary>
/// <remarks>
/// The hardest triplets carry the most signal but also the most label noise, and from randomly initialised weights
/// they can pull every embedding to one point, where each triplet costs exactly the margin and the gradient
/// vanishes. <see cref="Training.EmbeddingTrainer"/> stops with an <see cref="Training.EmbeddingCollapseException"/>
/// when that happens; warm up without the miner (<see cref="Training.EmbeddingTrainerOptions.MinerWarmupEpochs"/>) or
/// use <see cref="SemiHardMiner"/> instead. Stateless and thread-safe.
/// </remarks>
public sealed class BatchHardMiner : IMiner
{
    /// <summary>Creates the miner.</summary>
    /// <param name="distance">How embeddings are compared (a distance or a similarity); null for the Euclidean distance of L2-normalised embeddings, the default of <see cref="Losses.TripletMarginLoss"/>.</param>
    public BatchHardMiner(IDistance? distance = null) => Distance = distance ?? new LpDistance(2, normalize: true);

    /// <summary>How embeddings are compared.</summary>
    public IDistance Distance { get; }

    /// <inheritdoc />
    public MinedIndices Mine(Tensor embeddings, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (farness, positive, negative) = Farness.Compute(Distance, embeddings, labels);
        var hardestPositive = farness.masked_fill(positive.logical_not(), double.NegativeInfinity).argmax(1);
        var hardestNegative = farness.masked_fill(negative.logical_not(), double.PositiveInfinity).argmin(1);
        var anchors = positive.any(1).logical_and(negative.any(1)).nonzero().squeeze(1);
        return new MinedTriplets(
            anchors.MoveToOuterDisposeScope(),
            hardestPositive.index_select(0, anchors).MoveToOuterDisposeScope(),
            hardestNegative.index_select(0, anchors).MoveToOuterDisposeScope(),
            embeddings.shape[0],
            check: false);
    }
}
