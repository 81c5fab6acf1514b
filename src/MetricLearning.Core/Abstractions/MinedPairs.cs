using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>
/// Mined pairs of a batch: same-class pairs (<see cref="PositiveAnchors"/>[k], <see cref="Positives"/>[k]) and
/// different-class pairs (<see cref="NegativeAnchors"/>[k], <see cref="Negatives"/>[k]), as int64 row indices.
/// </summary>
/// <remarks>
/// The order in a pair matters to losses that are computed per anchor (multi-similarity, SupCon): the first index is
/// the anchor. Either kind may be empty; a loss then has nothing to learn from that kind.
/// </remarks>
public sealed class MinedPairs : MinedIndices
{
    private (Tensor Positive, Tensor Negative)? _masks;

    /// <summary>
    /// Wraps index vectors built elsewhere, after checking them (this reads each vector's range from the device). Takes
    /// ownership: disposing these mined pairs disposes the vectors.
    /// </summary>
    /// <param name="positiveAnchors">Anchors of the same-class pairs.</param>
    /// <param name="positives">Partners of <paramref name="positiveAnchors"/>, one to one.</param>
    /// <param name="negativeAnchors">Anchors of the different-class pairs.</param>
    /// <param name="negatives">Partners of <paramref name="negativeAnchors"/>, one to one.</param>
    /// <param name="batchSize">How many embeddings the mined batch has; every index is below it.</param>
    /// <exception cref="System.ArgumentException">An index vector is not 1-d int64, the lengths differ, the devices differ, or an index is outside the batch.</exception>
    public MinedPairs(Tensor positiveAnchors, Tensor positives, Tensor negativeAnchors, Tensor negatives, long batchSize)
        : this(positiveAnchors, positives, negativeAnchors, negatives, batchSize, check: true)
    {
    }

    internal MinedPairs(Tensor positiveAnchors, Tensor positives, Tensor negativeAnchors, Tensor negatives, long batchSize, bool check)
        : base(batchSize)
    {
        if (check)
        {
            CheckIndices(positiveAnchors, nameof(positiveAnchors), positiveAnchors, batchSize);
            CheckIndices(positives, nameof(positives), positiveAnchors, batchSize);
            CheckIndices(negativeAnchors, nameof(negativeAnchors), negativeAnchors, batchSize);
            CheckIndices(negatives, nameof(negatives), negativeAnchors, batchSize);
            TensorChecks.SameDevice(negativeAnchors, nameof(negativeAnchors), positiveAnchors, nameof(positiveAnchors));
        }

        PositiveAnchors = positiveAnchors;
        Positives = positives;
        NegativeAnchors = negativeAnchors;
        Negatives = negatives;
    }

    /// <summary>
    /// The pairs where two boolean <c>[N, N]</c> masks are true, row-major. Call inside the miner's dispose scope:
    /// the indices move to the scope around it, the caller's.
    /// </summary>
    internal static MinedPairs FromMasks(Tensor positive, Tensor negative)
    {
        var positives = positive.nonzero();
        var negatives = negative.nonzero();
        return new MinedPairs(
            positives.select(1, 0).MoveToOuterDisposeScope(),
            positives.select(1, 1).MoveToOuterDisposeScope(),
            negatives.select(1, 0).MoveToOuterDisposeScope(),
            negatives.select(1, 1).MoveToOuterDisposeScope(),
            positive.shape[0],
            check: false)
        {
            // The loss reads the pairs back as these masks; keep them rather than rebuild them.
            _masks = (positive.MoveToOuterDisposeScope(), negative.MoveToOuterDisposeScope()),
        };
    }

    /// <summary>How many same-class pairs were mined.</summary>
    public long PositiveCount => PositiveAnchors.shape[0];

    /// <summary>How many different-class pairs were mined.</summary>
    public long NegativeCount => NegativeAnchors.shape[0];

    /// <summary>Anchor rows of the same-class pairs.</summary>
    public Tensor PositiveAnchors { get; }

    /// <summary>Partner rows of the same-class pairs.</summary>
    public Tensor Positives { get; }

    /// <summary>Anchor rows of the different-class pairs.</summary>
    public Tensor NegativeAnchors { get; }

    /// <summary>Partner rows of the different-class pairs.</summary>
    public Tensor Negatives { get; }

    internal override (Tensor Positive, Tensor Negative) PairMasks()
        => _masks is { } masks
            ? (masks.Positive.alias(), masks.Negative.alias())
            : (Mask(PositiveAnchors, Positives), Mask(NegativeAnchors, Negatives));

    private protected override Tensor AnyIndices => PositiveAnchors;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (!disposing)
            return;
        _masks?.Positive.Dispose();
        _masks?.Negative.Dispose();
        PositiveAnchors.Dispose();
        Positives.Dispose();
        NegativeAnchors.Dispose();
        Negatives.Dispose();
    }
}
