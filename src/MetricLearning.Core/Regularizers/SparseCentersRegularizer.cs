using System;
using MetricLearning.Reducers;
using static TorchSharp.torch;

namespace MetricLearning.Regularizers;

/// <summary>
/// Pulls apart the sub-centres of each class (Qian et al., "SoftTriple loss", ICCV 2019), so that the ones a class does
/// not need can merge: over every pair of centres j &lt; k of the same class,
/// <c>R = Σ √(2 + ε − min(2·cos(w_j, w_k), 2)) / (2·pairs)</c>; pytorch-metric-learning's
/// <c>SparseCentersRegularizer</c>. The rows are <see cref="Classes"/> × <see cref="CentersPerClass"/> centres, class c's
/// being rows c·K to c·K + K − 1 (as <c>SoftTripleLoss</c> holds them).
/// </summary>
/// <remarks>
/// Default <see cref="DivisorReducer"/> with the divisor above: pytorch-metric-learning's. ε is the smallest positive
/// normal number of the dtype, as pytorch-metric-learning's, so that the square root's slope stays finite. Stateless
/// and thread-safe.
/// </remarks>
public sealed class SparseCentersRegularizer : IRegularizer
{
    /// <summary>Creates the regularizer.</summary>
    /// <param name="classes">How many classes; at least 1.</param>
    /// <param name="centersPerClass">How many centres each class has; at least 2.</param>
    /// <param name="reducer">How the pairs' values become one; null for <see cref="DivisorReducer"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is out of range.</exception>
    public SparseCentersRegularizer(int classes, int centersPerClass, IReducer? reducer = null)
    {
        if (classes < 1)
            throw new ArgumentOutOfRangeException(nameof(classes), classes, "There must be at least one class.");
        if (centersPerClass < 2)
            throw new ArgumentOutOfRangeException(nameof(centersPerClass), centersPerClass, "Sparse centres need at least two centres per class.");
        Classes = classes;
        CentersPerClass = centersPerClass;
        Reducer = reducer ?? new DivisorReducer();
    }

    /// <summary>How many classes.</summary>
    public int Classes { get; }

    /// <summary>How many centres each class has.</summary>
    public int CentersPerClass { get; }

    /// <summary>How the pairs' values become one.</summary>
    public IReducer Reducer { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The rows are not <see cref="Classes"/> × <see cref="CentersPerClass"/>.</exception>
    public Tensor Compute(Tensor rows)
    {
        RegularizerRows.Check(rows, "sparse-centres");
        long expected = (long)Classes * CentersPerClass;
        if (rows.shape[0] != expected)
            throw new ArgumentException($"The sparse-centres regularizer expects {Classes} classes × {CentersPerClass} centres = {expected} rows; got {rows.shape[0]}.", nameof(rows));
        using var scope = NewDisposeScope();
        var normalized = nn.functional.normalize(rows, p: 2, dim: 1);
        var cosine = normalized.matmul(normalized.t());
        // Same-class pairs j < k: the upper triangle of each class's K×K block, in row-major order as PML's mask picks them.
        var classOfRow = arange(expected, device: rows.device).div(CentersPerClass, rounding_mode: RoundingMode.floor);
        var sameClass = classOfRow.unsqueeze(1).eq(classOfRow.unsqueeze(0)).triu(1);
        var pairs = cosine.masked_select(sameClass);
        // The smallest positive normal number of the dtype (torch.finfo(dtype).tiny).
        double tiny = rows.dtype == ScalarType.Float64 ? 2.2250738585072014E-308 : 1.1754943508222875E-38;
        var perPair = (2.0 + tiny - (pairs * 2).clamp_max(2)).sqrt();
        var divisor = tensor(2.0 * Classes * CentersPerClass * (CentersPerClass - 1) / 2, dtype: rows.dtype, device: rows.device);
        return RegularizerRows.Reduce(Reducer, "same-class centre pairs", perPair, divisor).MoveToOuterDisposeScope();
    }
}
