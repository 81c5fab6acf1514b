using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace MetricLearning.Data;

/// <summary>An <see cref="ILabelledSource"/> over inputs already in memory on the CPU: an <see cref="InputSet"/> and its labels.</summary>
/// <remarks>The source does not own the input set: dispose that yourself after the source's last use. Thread-safe.</remarks>
public sealed class InMemorySource : ILabelledSource
{
    private readonly InputSet _inputs;
    private readonly int[] _labels;

    /// <summary>Creates the source.</summary>
    /// <param name="inputs">The inputs, on the CPU.</param>
    /// <param name="labels">The class of each input.</param>
    /// <exception cref="ArgumentException">The counts differ, the inputs are not on the CPU, or a label is negative.</exception>
    public InMemorySource(InputSet inputs, IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count != inputs.Count)
            throw new ArgumentException($"There are {labels.Count} labels for {inputs.Count} inputs.", nameof(labels));
        if (inputs.Device.type != TorchSharp.DeviceType.CPU)
            throw new ArgumentException($"An in-memory source reads from the CPU; the inputs are on {inputs.Device}.", nameof(inputs));
        if (labels.Any(label => label < 0))
            throw new ArgumentException("Labels must not be negative.", nameof(labels));
        _inputs = inputs;
        _labels = labels.ToArray();
        InputShape = inputs.InputShape;
    }

    /// <inheritdoc />
    public int Count => _labels.Length;

    /// <inheritdoc />
    public IReadOnlyList<int> Labels => _labels;

    /// <inheritdoc />
    public IReadOnlyList<long> InputShape { get; }

    /// <inheritdoc />
    public IInputPreprocessing Preprocessing => _inputs.Preprocessing;

    /// <inheritdoc />
    public Tensor Read(IReadOnlyList<int> positions)
    {
        ArgumentNullException.ThrowIfNull(positions);
        var rows = new long[positions.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            if ((uint)positions[i] >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(positions), positions[i], $"Position {positions[i]} is outside the {Count} inputs.");
            rows[i] = positions[i];
        }

        using var index = tensor(rows);
        return _inputs.Data.index_select(0, index).DetachFromDisposeScope();
    }
}
