using static TorchSharp.torch;

namespace MetricLearning.Mining;

/// <summary>
/// The miners' common first step: check the batch, then compare every embedding with every other on one scale where
/// larger means farther (the distance, or the negated similarity), without gradient.
/// </summary>
internal static class Farness
{
    /// <summary>
    /// The <c>[N, N]</c> farness matrix and the label masks of the batch, in the caller's dispose scope. Call inside
    /// a <c>no_grad</c> block.
    /// </summary>
    internal static (Tensor Farness, Tensor Positive, Tensor Negative) Compute(IDistance distance, Tensor embeddings, Tensor labels)
    {
        BatchPairMasks.Validate(embeddings, labels, null);
        var (positive, negative) = BatchPairMasks.FromLabels(labels);
        return (Matrix(distance, embeddings, embeddings), positive, negative);
    }

    /// <summary>The <c>[Nq, Nr]</c> farness of every query from every reference, in the caller's dispose scope. Call inside a <c>no_grad</c> block.</summary>
    internal static Tensor Matrix(IDistance distance, Tensor queries, Tensor references)
    {
        using var q = queries.detach();
        using var r = references.detach();
        var matrix = distance.ComputeMatrix(q, r);
        // Not in place: a user's distance may return a tensor it still holds.
        return distance.IsSimilarity ? matrix.neg() : matrix;
    }
}
