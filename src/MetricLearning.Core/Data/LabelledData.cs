using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace MetricLearning.Data;

/// <summary>
/// Inputs with the class of each: what a trainer learns from. Classes are numbers from 0, or names (strings) that are
/// numbered in ordinal order of the distinct names, with <see cref="ClassNames"/> mapping each number back to its name.
/// </summary>
/// <remarks>
/// A set made by <see cref="FromRows(IReadOnlyList{float[]}, IReadOnlyList{string}, Device?)"/> and its kin owns its
/// inputs and disposes them; one made from an existing <see cref="InputSet"/> does not. Immutable.
/// </remarks>
public sealed class LabelledData : IDisposable
{
    private readonly int[] _labels;
    private readonly string[]? _classNames;
    private readonly bool _ownsInputs;

    /// <summary>Pairs an input set with numeric class labels (not taking ownership of the inputs).</summary>
    /// <param name="inputs">The inputs.</param>
    /// <param name="labels">The class of input i is <c>labels[i]</c>; non-negative.</param>
    /// <exception cref="ArgumentException">The counts differ or a label is negative.</exception>
    public LabelledData(InputSet inputs, IReadOnlyList<int> labels)
        : this(inputs, CheckLabels(labels, inputs), null, ownsInputs: false)
    {
    }

    /// <summary>Pairs an input set with class names (not taking ownership of the inputs).</summary>
    /// <param name="inputs">The inputs.</param>
    /// <param name="labels">The class name of input i is <c>labels[i]</c>; not null.</param>
    /// <exception cref="ArgumentException">The counts differ or a name is null.</exception>
    public LabelledData(InputSet inputs, IReadOnlyList<string> labels)
        : this(inputs, labels, ownsInputs: false)
    {
    }

    private LabelledData(InputSet inputs, IReadOnlyList<string> labels, bool ownsInputs)
        : this(inputs, Number(labels, inputs, out var names), names, ownsInputs)
    {
    }

    private LabelledData(InputSet inputs, int[] labels, string[]? classNames, bool ownsInputs)
    {
        Inputs = inputs;
        _labels = labels;
        _classNames = classNames;
        _ownsInputs = ownsInputs;
    }

    /// <summary>Rows of equal length (one input each) with their class names; the set owns the copied inputs.</summary>
    /// <param name="rows">The inputs, as <see cref="InputSet.FromRows"/> takes them.</param>
    /// <param name="labels">The class name of each row.</param>
    /// <param name="device">Where to keep the inputs; the CPU if null.</param>
    public static LabelledData FromRows(IReadOnlyList<float[]> rows, IReadOnlyList<string> labels, Device? device = null)
        => Owning(InputSet.FromRows(rows, device), inputs => new LabelledData(inputs, labels, ownsInputs: true));

    /// <summary>Rows of equal length (one input each) with numeric class labels; the set owns the copied inputs.</summary>
    /// <param name="rows">The inputs, as <see cref="InputSet.FromRows"/> takes them.</param>
    /// <param name="labels">The class of each row; non-negative.</param>
    /// <param name="device">Where to keep the inputs; the CPU if null.</param>
    public static LabelledData FromRows(IReadOnlyList<float[]> rows, IReadOnlyList<int> labels, Device? device = null)
        => Owning(InputSet.FromRows(rows, device), inputs => new LabelledData(inputs, CheckLabels(labels, inputs), null, ownsInputs: true));

    /// <summary>A matrix (one input per row) with the class name of each row; the set owns the copied inputs.</summary>
    /// <param name="matrix">The inputs, as <see cref="InputSet.FromMatrix"/> takes them.</param>
    /// <param name="labels">The class name of each row.</param>
    /// <param name="device">Where to keep the inputs; the CPU if null.</param>
    public static LabelledData FromMatrix(float[,] matrix, IReadOnlyList<string> labels, Device? device = null)
        => Owning(InputSet.FromMatrix(matrix, device), inputs => new LabelledData(inputs, labels, ownsInputs: true));

    /// <summary>Values laid out row-major in a shape, with the class name of each input; the set owns the copied inputs.</summary>
    /// <param name="values">The values, as <see cref="InputSet.FromValues"/> takes them.</param>
    /// <param name="shape">The inputs' shape, <c>[N, ...]</c>.</param>
    /// <param name="labels">The class name of each of the N inputs.</param>
    /// <param name="device">Where to keep the inputs; the CPU if null.</param>
    public static LabelledData FromValues(ReadOnlySpan<float> values, IReadOnlyList<long> shape, IReadOnlyList<string> labels, Device? device = null)
    {
        var inputs = InputSet.FromValues(values, shape, device);
        return Owning(inputs, owned => new LabelledData(owned, labels, ownsInputs: true));
    }

    /// <summary>The inputs.</summary>
    public InputSet Inputs { get; }

    /// <summary>The class number of each input.</summary>
    public IReadOnlyList<int> Labels => _labels;

    /// <summary>The name of each class number, when the labels were given as names; otherwise null.</summary>
    public IReadOnlyList<string>? ClassNames => _classNames;

    /// <summary>Number of inputs.</summary>
    public int Count => _labels.Length;

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsInputs)
            Inputs.Dispose();
    }

    private static LabelledData Owning(InputSet inputs, Func<InputSet, LabelledData> create)
    {
        try
        {
            return create(inputs);
        }
        catch
        {
            inputs.Dispose();
            throw;
        }
    }

    private static int[] CheckLabels(IReadOnlyList<int> labels, InputSet inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count != inputs.Count)
            throw new ArgumentException($"There are {labels.Count} labels for {inputs.Count} inputs.", nameof(labels));
        var copy = labels.ToArray();
        for (int i = 0; i < copy.Length; i++)
        {
            if (copy[i] < 0)
                throw new ArgumentException($"Label {i} is {copy[i]}; class labels are numbers from 0.", nameof(labels));
        }

        return copy;
    }

    private static int[] Number(IReadOnlyList<string> labels, InputSet inputs, out string[] names)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count != inputs.Count)
            throw new ArgumentException($"There are {labels.Count} labels for {inputs.Count} inputs.", nameof(labels));
        for (int i = 0; i < labels.Count; i++)
        {
            if (labels[i] is null)
                throw new ArgumentException($"Label {i} is null.", nameof(labels));
        }

        names = labels.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var numbers = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < names.Length; i++)
            numbers[names[i]] = i;
        return labels.Select(label => numbers[label]).ToArray();
    }
}
