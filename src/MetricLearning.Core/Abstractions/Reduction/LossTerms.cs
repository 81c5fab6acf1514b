using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>
/// One sub-loss of a batch loss before reduction (pytorch-metric-learning's loss dictionary entry): its per-element
/// values, what each value belongs to (<see cref="Kind"/>, <see cref="Anchors"/>), and which values count
/// (<see cref="Valid"/>). An <see cref="IReducer"/> turns it into one number; <see cref="Losses.BatchLoss.ComputeTerms"/>
/// gives them unreduced, for users who want the values themselves.
/// </summary>
/// <remarks>
/// <para>
/// The values may be laid out densely (for example every ordered pair of the batch as an <c>[N, N]</c> matrix) with
/// <see cref="Valid"/> saying which entries are real pairs, so that no shape depends on the data and nothing is read
/// back from the device. <see cref="Anchors"/> and <see cref="Valid"/> broadcast to the values' shape.
/// </para>
/// <para>The tensors belong to whoever holds these terms; disposing the terms disposes them.</para>
/// </remarks>
public sealed class LossTerms : IDisposable
{
    /// <summary>Wraps the values of one sub-loss, after checking their shapes (nothing is read from the device).</summary>
    /// <param name="name">The sub-loss's name, for messages (for example "positive pairs").</param>
    /// <param name="kind">What each value belongs to.</param>
    /// <param name="values">The values, floating point; 0-d for <see cref="LossTermKind.AlreadyReduced"/>.</param>
    /// <param name="anchors">
    /// int64, broadcastable to <paramref name="values"/>: the batch row (or, for <see cref="LossTermKind.Class"/>, the
    /// class) each value belongs to. Null for <see cref="LossTermKind.AlreadyReduced"/>, and for 1-d element or class
    /// values, where value i belongs to row (or class) i.
    /// </param>
    /// <param name="valid">Boolean, broadcastable to <paramref name="values"/>: which values count; null when all do.</param>
    /// <param name="divisor">
    /// What <see cref="Reducers.DivisorReducer"/> divides the sum of the values by (a 0-d tensor); null when the loss
    /// names none.
    /// </param>
    /// <exception cref="ArgumentException">A shape does not broadcast to the values', a dtype is wrong, or anchors are missing where they are needed.</exception>
    public LossTerms(string name, LossTermKind kind, Tensor values, Tensor? anchors = null, Tensor? valid = null, Tensor? divisor = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(values);
        if (!Enum.IsDefined(kind))
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown kind of loss terms.");
        TensorChecks.FloatingPoint(values, nameof(values));
        if (kind == LossTermKind.AlreadyReduced && values.dim() != 0)
            throw new ArgumentException($"Already-reduced terms '{name}' must be 0-d; their values are {TensorChecks.Shape(values)}.", nameof(values));
        if (anchors is null && kind is not (LossTermKind.AlreadyReduced or LossTermKind.Element or LossTermKind.Class))
            throw new ArgumentException($"Terms '{name}' of kind {kind} need the anchor row of each value.", nameof(anchors));
        if (anchors is null && kind is LossTermKind.Element or LossTermKind.Class && values.dim() != 1)
            throw new ArgumentException($"Terms '{name}' without anchors must be 1-d (value i belongs to row i); their values are {TensorChecks.Shape(values)}.", nameof(anchors));
        if (anchors is not null)
        {
            if (anchors.dtype != ScalarType.Int64)
                throw new ArgumentException($"The anchors of terms '{name}' must be int64; their dtype is {anchors.dtype}.", nameof(anchors));
            CheckBroadcast(anchors, values, name, nameof(anchors));
        }

        if (valid is not null)
        {
            if (valid.dtype != ScalarType.Bool)
                throw new ArgumentException($"The validity mask of terms '{name}' must be boolean; its dtype is {valid.dtype}.", nameof(valid));
            CheckBroadcast(valid, values, name, nameof(valid));
        }

        if (divisor is not null && divisor.dim() != 0)
            throw new ArgumentException($"The divisor of terms '{name}' must be 0-d; it is {TensorChecks.Shape(divisor)}.", nameof(divisor));
        Name = name;
        Kind = kind;
        Values = values;
        Anchors = anchors;
        Valid = valid;
        Divisor = divisor;
    }

    /// <summary>The sub-loss's name, for messages.</summary>
    public string Name { get; }

    /// <summary>What each value belongs to.</summary>
    public LossTermKind Kind { get; }

    /// <summary>The values.</summary>
    public Tensor Values { get; }

    /// <summary>The batch row (or class) of each value, broadcastable to <see cref="Values"/>; null when value i belongs to row i, or for already-reduced terms.</summary>
    public Tensor? Anchors { get; }

    /// <summary>Which values count, broadcastable to <see cref="Values"/>; null when all do.</summary>
    public Tensor? Valid { get; }

    /// <summary>What <see cref="Reducers.DivisorReducer"/> divides by; null when the loss names none.</summary>
    public Tensor? Divisor { get; }

    /// <summary>The values with those that do not count set to 0 (a new tensor in the caller's dispose scope).</summary>
    internal Tensor ValidValues() => Valid is null ? Values.alias() : Values.masked_fill(Valid.logical_not(), 0);

    /// <summary>The validity mask as the values' dtype and shape (1 where a value counts), in the caller's dispose scope.</summary>
    internal Tensor ValidWeights() => Valid is null
        ? ones_like(Values)
        : Valid.to_type(Values.dtype).expand(Values.shape);

    /// <summary>The anchor of every value, the values' shape, in the caller's dispose scope.</summary>
    internal Tensor AnchorsOfValues() => Anchors is null
        ? arange(Values.shape[0], dtype: ScalarType.Int64, device: Values.device)
        : Anchors.expand(Values.shape);

    /// <summary>Moves every tensor of every one of <paramref name="terms"/> to the dispose scope around the current one, and lists them.</summary>
    internal static IReadOnlyList<LossTerms> MoveToOuterDisposeScope(params LossTerms[] terms)
    {
        foreach (var t in terms)
        {
            t.Values.MoveToOuterDisposeScope();
            t.Anchors?.MoveToOuterDisposeScope();
            t.Valid?.MoveToOuterDisposeScope();
            t.Divisor?.MoveToOuterDisposeScope();
        }

        return terms;
    }

    private static void CheckBroadcast(Tensor tensor, Tensor values, string terms, string what)
    {
        TensorChecks.SameDevice(tensor, what, values, "values");
        var shape = tensor.shape;
        var target = values.shape;
        bool fits = shape.Length <= target.Length && shape.Reverse().Zip(target.Reverse()).All(p => p.First == p.Second || p.First == 1);
        if (!fits)
            throw new ArgumentException($"The {what} of terms '{terms}' are {TensorChecks.Shape(tensor)}, which does not broadcast to the values' {TensorChecks.Shape(values)}.", what);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Values.Dispose();
        Anchors?.Dispose();
        Valid?.Dispose();
        Divisor?.Dispose();
    }
}
