using System;
using MetricLearning.Distances;
using static TorchSharp.torch;

namespace MetricLearning.Mining;

/// <summary>
/// Batch easy/hard mining: for each anchor, one positive and one negative picked by a strategy each
/// (<see cref="BatchMiningStrategy"/>), or every pair of a kind. The default, the easiest positive with the
/// semi-hard negative, is the "easy positive" mining of Xuan, Stylianou, Liu and Pless (Improved Embeddings with Easy
/// Positive Triplet Mining, WACV 2020); hard/hard is batch-hard mining (Hermans, Beyer and Leibe, 2017).
/// </summary>
/// <remarks>
/// <para>
/// Equals pytorch-metric-learning 2.8.1's <c>BatchEasyHardMiner</c>, with its defaults: easy positives, semi-hard
/// negatives, no allowed ranges, the Euclidean distance of L2-normalised embeddings. Semi-hard is relative to the
/// other kind's pick: a semi-hard negative is the closest negative farther than the anchor's picked positive
/// (<c>d(a, n) &gt; d(a, p)</c>), a semi-hard positive the farthest positive closer than the anchor's picked negative.
/// An allowed range keeps only pairs whose distance (or similarity) lies in it, bounds included, before picking.
/// </para>
/// <para>
/// Returns <see cref="MinedPairs"/>: for one pick per anchor, the pairs (a, p) and (a, n) of each anchor that has
/// both; with <see cref="BatchMiningStrategy.All"/> on one side, every pair of that kind and the picks of the other
/// side for every anchor that has one. Among tied distances the pick is whichever the arg-min or arg-max finds.
/// </para>
/// <para>
/// Difference from PML: PML applies an allowed range only to picks, so with <see cref="BatchMiningStrategy.All"/> its
/// range is ignored; here it filters every pair of that kind. Stateless and thread-safe.
/// </para>
/// </remarks>
public sealed class BatchEasyHardMiner : IMiner
{
    /// <summary>Creates the miner.</summary>
    /// <param name="positiveStrategy">How each anchor's positive is picked.</param>
    /// <param name="negativeStrategy">How each anchor's negative is picked.</param>
    /// <param name="allowedPositiveRange">Same-class pairs whose distance (or similarity) is within [Min, Max] are candidates; null for all.</param>
    /// <param name="allowedNegativeRange">Different-class pairs whose distance (or similarity) is within [Min, Max] are candidates; null for all.</param>
    /// <param name="distance">How embeddings are compared (a distance or a similarity); null for the Euclidean distance of L2-normalised embeddings, PML's default.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A strategy is not one of the enum's values; both strategies are <see cref="BatchMiningStrategy.SemiHard"/>, or one is
    /// semi-hard and the other <see cref="BatchMiningStrategy.All"/> (semi-hard is relative to a single pick of the other
    /// kind), reported on <paramref name="negativeStrategy"/>; or a range has a NaN bound or Min above Max.
    /// </exception>
    public BatchEasyHardMiner(
        BatchMiningStrategy positiveStrategy = BatchMiningStrategy.Easy,
        BatchMiningStrategy negativeStrategy = BatchMiningStrategy.SemiHard,
        (double Min, double Max)? allowedPositiveRange = null,
        (double Min, double Max)? allowedNegativeRange = null,
        IDistance? distance = null)
    {
        if (!Enum.IsDefined(positiveStrategy))
            throw new ArgumentOutOfRangeException(nameof(positiveStrategy), positiveStrategy, "The positive strategy must be Easy, SemiHard, Hard or All.");
        if (!Enum.IsDefined(negativeStrategy))
            throw new ArgumentOutOfRangeException(nameof(negativeStrategy), negativeStrategy, "The negative strategy must be Easy, SemiHard, Hard or All.");
        if (positiveStrategy == BatchMiningStrategy.SemiHard && negativeStrategy == BatchMiningStrategy.SemiHard)
            throw new ArgumentOutOfRangeException(nameof(negativeStrategy), negativeStrategy,
                "The positive and negative strategies cannot both be SemiHard: each is relative to the other's pick.");
        if ((positiveStrategy == BatchMiningStrategy.SemiHard && negativeStrategy == BatchMiningStrategy.All)
            || (positiveStrategy == BatchMiningStrategy.All && negativeStrategy == BatchMiningStrategy.SemiHard))
            throw new ArgumentOutOfRangeException(nameof(negativeStrategy), negativeStrategy,
                "SemiHard cannot be combined with All: it is relative to a single pick of the other kind.");
        CheckRange(allowedPositiveRange, nameof(allowedPositiveRange));
        CheckRange(allowedNegativeRange, nameof(allowedNegativeRange));
        PositiveStrategy = positiveStrategy;
        NegativeStrategy = negativeStrategy;
        AllowedPositiveRange = allowedPositiveRange;
        AllowedNegativeRange = allowedNegativeRange;
        Distance = distance ?? new LpDistance(2, normalize: true);
    }

    /// <summary>How each anchor's positive is picked.</summary>
    public BatchMiningStrategy PositiveStrategy { get; }

    /// <summary>How each anchor's negative is picked.</summary>
    public BatchMiningStrategy NegativeStrategy { get; }

    /// <summary>The distances (or similarities) a same-class pair may have, bounds included; null for any.</summary>
    public (double Min, double Max)? AllowedPositiveRange { get; }

    /// <summary>The distances (or similarities) a different-class pair may have, bounds included; null for any.</summary>
    public (double Min, double Max)? AllowedNegativeRange { get; }

    /// <summary>How embeddings are compared.</summary>
    public IDistance Distance { get; }

    private static void CheckRange((double Min, double Max)? range, string name)
    {
        if (range is { } r && (double.IsNaN(r.Min) || double.IsNaN(r.Max) || r.Min > r.Max))
            throw new ArgumentOutOfRangeException(name, r, "An allowed range needs Min ≤ Max and no NaN bound.");
    }

    /// <inheritdoc />
    public MinedIndices Mine(Tensor embeddings, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (farness, positive, negative) = Farness.Compute(Distance, embeddings, labels);
        var raw = Distance.IsSimilarity ? farness.neg() : farness;
        var positives = InRange(positive, raw, AllowedPositiveRange);
        var negatives = InRange(negative, raw, AllowedNegativeRange);

        // On farness (larger is farther): a hard positive is the largest, an easy one the smallest; a hard negative the
        // smallest, an easy one the largest. Semi-hard picks the hard end among the pairs beyond the other kind's pick.
        Pick? p = null, n = null;
        if (PositiveStrategy == BatchMiningStrategy.SemiHard)
        {
            n = Choose(negatives, farness, largest: NegativeStrategy == BatchMiningStrategy.Easy);
            p = Choose(positives.logical_and(farness.lt(n.Value.Value.unsqueeze(1))), farness, largest: true);
        }
        else if (NegativeStrategy == BatchMiningStrategy.SemiHard)
        {
            p = Choose(positives, farness, largest: PositiveStrategy != BatchMiningStrategy.Easy);
            n = Choose(negatives.logical_and(farness.gt(p.Value.Value.unsqueeze(1))), farness, largest: false);
        }
        else
        {
            if (PositiveStrategy != BatchMiningStrategy.All)
                p = Choose(positives, farness, largest: PositiveStrategy == BatchMiningStrategy.Hard);
            if (NegativeStrategy != BatchMiningStrategy.All)
                n = Choose(negatives, farness, largest: NegativeStrategy == BatchMiningStrategy.Easy);
        }

        if (p is { } pp && n is { } nn)
        {
            var anchors = pp.Found.logical_and(nn.Found).nonzero().squeeze(1);
            return new MinedPairs(
                anchors.MoveToOuterDisposeScope(),
                pp.Index.index_select(0, anchors).MoveToOuterDisposeScope(),
                anchors.clone().MoveToOuterDisposeScope(),
                nn.Index.index_select(0, anchors).MoveToOuterDisposeScope(),
                embeddings.shape[0],
                check: false);
        }

        var (positiveAnchors, positivePartners) = p is { } one ? Picked(one) : All(positives);
        var (negativeAnchors, negativePartners) = n is { } other ? Picked(other) : All(negatives);
        return new MinedPairs(
            positiveAnchors.MoveToOuterDisposeScope(),
            positivePartners.MoveToOuterDisposeScope(),
            negativeAnchors.MoveToOuterDisposeScope(),
            negativePartners.MoveToOuterDisposeScope(),
            embeddings.shape[0],
            check: false);
    }

    private readonly record struct Pick(Tensor Value, Tensor Index, Tensor Found);

    private static Tensor InRange(Tensor pairs, Tensor raw, (double Min, double Max)? range) =>
        range is { } r ? pairs.logical_and(raw.ge(r.Min)).logical_and(raw.le(r.Max)) : pairs;

    /// <summary>Each row's largest (or smallest) farness among the candidates, where it is, and whether the row has any candidate.</summary>
    private static Pick Choose(Tensor candidates, Tensor farness, bool largest)
    {
        var masked = farness.masked_fill(candidates.logical_not(), largest ? double.NegativeInfinity : double.PositiveInfinity);
        var (value, index) = largest ? masked.max(1) : masked.min(1);
        return new Pick(value, index, candidates.any(1));
    }

    private static (Tensor Anchors, Tensor Partners) Picked(Pick pick)
    {
        var anchors = pick.Found.nonzero().squeeze(1);
        return (anchors, pick.Index.index_select(0, anchors));
    }

    private static (Tensor Anchors, Tensor Partners) All(Tensor pairs)
    {
        var found = pairs.nonzero();
        return (found.select(1, 0), found.select(1, 1));
    }
}
