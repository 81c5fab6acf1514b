using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>
/// Mined triplets of a batch: (<see cref="Anchors"/>[k], <see cref="Positives"/>[k], <see cref="Negatives"/>[k]),
/// where the positive has the anchor's class and the negative another, as int64 row indices.
/// </summary>
public sealed class MinedTriplets : MinedIndices
{
    /// <summary>
    /// Wraps index vectors built elsewhere, after checking them (this reads each vector's range from the device). Takes
    /// ownership: disposing these mined triplets disposes the vectors.
    /// </summary>
    /// <param name="anchors">Anchor rows.</param>
    /// <param name="positives">Same-class partners of <paramref name="anchors"/>, one to one.</param>
    /// <param name="negatives">Different-class partners of <paramref name="anchors"/>, one to one.</param>
    /// <param name="batchSize">How many embeddings the mined batch has; every index is below it.</param>
    /// <exception cref="System.ArgumentException">An index vector is not 1-d int64, the lengths differ, the devices differ, or an index is outside the batch.</exception>
    public MinedTriplets(Tensor anchors, Tensor positives, Tensor negatives, long batchSize)
        : this(anchors, positives, negatives, batchSize, check: true)
    {
    }

    internal MinedTriplets(Tensor anchors, Tensor positives, Tensor negatives, long batchSize, bool check)
        : base(batchSize)
    {
        if (check)
        {
            CheckIndices(anchors, nameof(anchors), anchors, batchSize);
            CheckIndices(positives, nameof(positives), anchors, batchSize);
            CheckIndices(negatives, nameof(negatives), anchors, batchSize);
        }

        Anchors = anchors;
        Positives = positives;
        Negatives = negatives;
    }

    /// <summary>Anchor rows.</summary>
    public Tensor Anchors { get; }

    /// <summary>Same-class partner rows.</summary>
    public Tensor Positives { get; }

    /// <summary>Different-class partner rows.</summary>
    public Tensor Negatives { get; }

    /// <summary>How many triplets were mined.</summary>
    public long Count => Anchors.shape[0];

    /// <summary>The pairs (a, p) and (a, n) of every triplet.</summary>
    internal override (Tensor Positive, Tensor Negative) PairMasks() => (Mask(Anchors, Positives), Mask(Anchors, Negatives));

    private protected override Tensor AnyIndices => Anchors;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (!disposing)
            return;
        Anchors.Dispose();
        Positives.Dispose();
        Negatives.Dispose();
    }
}
