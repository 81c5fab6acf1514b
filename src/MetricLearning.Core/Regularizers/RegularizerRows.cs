using System;
using static TorchSharp.torch;

namespace MetricLearning.Regularizers;

/// <summary>What the regularizers share: checking the rows they are given and reducing their per-row values.</summary>
internal static class RegularizerRows
{
    /// <summary>Throws unless <paramref name="rows"/> is a floating-point <c>[N, D]</c> tensor with at least <paramref name="minimum"/> rows.</summary>
    internal static void Check(Tensor rows, string regularizer, long minimum = 1)
    {
        ArgumentNullException.ThrowIfNull(rows);
        TensorChecks.Rank(rows, 2, nameof(rows));
        TensorChecks.FloatingPoint(rows, nameof(rows));
        if (rows.shape[0] < minimum)
            throw new ArgumentException($"The {regularizer} regularizer needs at least {minimum} rows; got {rows.shape[0]}.", nameof(rows));
    }

    /// <summary>
    /// Reduces one value per row with <paramref name="reducer"/>, the rows' numbers standing for labels (as
    /// pytorch-metric-learning's regularizers do), in the caller's dispose scope.
    /// </summary>
    internal static Tensor Reduce(IReducer reducer, string name, Tensor perRow, Tensor? divisor = null)
    {
        using var scope = NewDisposeScope();
        var rows = arange(perRow.shape[0], dtype: ScalarType.Int64, device: perRow.device);
        using var terms = new LossTerms(name, LossTermKind.Element, perRow.alias(), divisor: divisor?.alias());
        return reducer.Reduce(terms, rows).MoveToOuterDisposeScope();
    }
}
