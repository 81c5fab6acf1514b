using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Data;

/// <summary>
/// A whole set of inputs held as one tensor on the training device, from which batches are gathered by index and
/// preprocessed (<see cref="Preprocessing"/>).
/// </summary>
/// <remarks>
/// <para>
/// Inputs may be stored compactly (for example as bytes) and are converted per batch:
/// <c>batch = Preprocessing(float32(data[indices]))</c>. MNIST images are kept as bytes with
/// <c>new InputScaling(1/255f)</c>, a quarter of the memory of float32 and the same values the reference experiment
/// feeds its network. The preprocessing is what a <see cref="Models.TrainedModel"/> saves, so a loaded model embeds
/// raw inputs as training did.
/// </para>
/// <para>The set owns <see cref="Data"/> and disposes it. Gathering is thread-safe; disposing is not.</para>
/// </remarks>
public sealed class InputSet : IDisposable
{
    /// <summary>Wraps a tensor of inputs, scaled per batch; takes ownership of it.</summary>
    /// <param name="data">Shape <c>[N, ...]</c> with N &gt; 0; any real dtype.</param>
    /// <param name="scale">Factor applied after converting a gathered batch to float32; finite and non-zero.</param>
    /// <exception cref="ArgumentException">The tensor has no rows or is not real-valued, or the scale is not finite and non-zero.</exception>
    public InputSet(Tensor data, float scale = 1f)
        : this(data, scale == 1f ? InputScaling.Identity : new InputScaling(scale))
    {
    }

    /// <summary>Wraps a tensor of inputs with the preprocessing applied to each gathered batch; takes ownership of the tensor.</summary>
    /// <param name="data">Shape <c>[N, ...]</c> with N &gt; 0; any real dtype.</param>
    /// <param name="preprocessing">Applied to each gathered batch after conversion to float32.</param>
    /// <exception cref="ArgumentException">The tensor has no rows or is not real-valued.</exception>
    public InputSet(Tensor data, IInputPreprocessing preprocessing)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(preprocessing);
        if (data.dim() < 1 || data.shape[0] == 0)
            throw new ArgumentException($"An input set needs a tensor of shape [N, ...] with N > 0; got [{string.Join(", ", data.shape)}].", nameof(data));
        if (data.dtype == ScalarType.Bool || data.is_complex())
            throw new ArgumentException($"An input set needs real-valued inputs; got dtype {data.dtype}.", nameof(data));

        Data = data.DetachFromDisposeScope();
        Preprocessing = preprocessing;
    }

    /// <summary>Copies rows of equal length into a new set of float32 inputs of shape <c>[rows, length]</c>.</summary>
    /// <param name="rows">One input per row; at least one, all of one length, finite values.</param>
    /// <param name="device">Where to keep the inputs; the CPU if null.</param>
    /// <exception cref="ArgumentException">There are no rows, a row is null or empty, the lengths differ, or a value is not finite.</exception>
    public static InputSet FromRows(IReadOnlyList<float[]> rows, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
            throw new ArgumentException("At least one input row is needed.", nameof(rows));
        int width = rows[0]?.Length ?? 0;
        if (width == 0)
            throw new ArgumentException("Row 0 is null or empty.", nameof(rows));
        var values = new float[(long)rows.Count * width];
        for (int i = 0; i < rows.Count; i++)
        {
            var row = rows[i] ?? throw new ArgumentException($"Row {i} is null.", nameof(rows));
            if (row.Length != width)
                throw new ArgumentException($"Row {i} has {row.Length} values; row 0 has {width}. Every row must have the same length.", nameof(rows));
            row.CopyTo(values, (long)i * width);
        }

        return FromValues(values, new long[] { rows.Count, width }, device);
    }

    /// <summary>Copies a matrix (one input per row) into a new set of float32 inputs.</summary>
    /// <param name="matrix">Shape <c>[N, D]</c> with N, D &gt; 0; finite values.</param>
    /// <param name="device">Where to keep the inputs; the CPU if null.</param>
    /// <exception cref="ArgumentException">The matrix is empty or holds a value that is not finite.</exception>
    public static InputSet FromMatrix(float[,] matrix, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        var values = new float[matrix.Length];
        Buffer.BlockCopy(matrix, 0, values, 0, matrix.Length * sizeof(float));
        return FromValues(values, new long[] { matrix.GetLength(0), matrix.GetLength(1) }, device);
    }

    /// <summary>Copies values laid out row-major in <paramref name="shape"/> into a new set of float32 inputs.</summary>
    /// <param name="values">The values, <c>shape[0] · shape[1] · …</c> of them; finite.</param>
    /// <param name="shape">The inputs' shape: <c>[N, ...]</c>, every size positive (for example <c>[N, 28, 28]</c>).</param>
    /// <param name="device">Where to keep the inputs; the CPU if null.</param>
    /// <exception cref="ArgumentException">The shape has a size below 1, does not match the number of values, or a value is not finite.</exception>
    public static InputSet FromValues(ReadOnlySpan<float> values, IReadOnlyList<long> shape, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Count < 2 || shape.Any(size => size < 1))
            throw new ArgumentException($"The shape must be [N, ...] with every size at least 1; got [{string.Join(", ", shape)}].", nameof(shape));
        long count = 1;
        foreach (long size in shape)
            count = checked(count * size);
        if (count != values.Length)
            throw new ArgumentException($"The shape [{string.Join(", ", shape)}] holds {count} values, but {values.Length} were given.", nameof(values));
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
                throw new ArgumentException($"Value {i} (input {i / (count / shape[0])}) is {values[i]}; inputs must be finite.", nameof(values));
        }

        var host = tensor(values.ToArray(), shape.ToArray());
        return new InputSet(device is null || device.type == DeviceType.CPU ? host : MoveAndDispose(host, device));
    }

    private static Tensor MoveAndDispose(Tensor host, Device device)
    {
        using (host)
            return host.to(device);
    }

    /// <summary>The stored inputs, shape <c>[N, ...]</c>.</summary>
    public Tensor Data { get; }

    /// <summary>Applied to each gathered batch after conversion to float32.</summary>
    public IInputPreprocessing Preprocessing { get; }

    /// <summary>Number of inputs (rows).</summary>
    public long Count => Data.shape[0];

    /// <summary>The shape of one input: <see cref="Data"/>'s shape without its first dimension.</summary>
    public IReadOnlyList<long> InputShape => Data.shape.Skip(1).ToArray();

    /// <summary>The device the inputs live on.</summary>
    public Device Device => Data.device;

    /// <summary>Gathers the rows named by <paramref name="indices"/> as a preprocessed float32 batch.</summary>
    /// <param name="indices">A 1-D int64 tensor of row indices on <see cref="Device"/>.</param>
    /// <returns>Shape <c>[indices.Length, ...]</c>, float32, in the caller's dispose scope.</returns>
    public Tensor Gather(Tensor indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        using var rows = Data.index_select(0, indices);
        return Prepare(Preprocessing, rows);
    }

    private static int _touchedSink;

    /// <summary>
    /// Gathers the rows named by <paramref name="indices"/>, preprocessed as <see cref="Gather"/> does, into
    /// <paramref name="destination"/> (float32 <c>[indices.Length, features]</c>, contiguous, on the CPU) without
    /// allocating: for byte or float32 inputs on the CPU with an <see cref="InputScaling"/>, in one managed pass (the
    /// training step's inputs then stay in one buffer, warm in the cache, instead of fresh memory every step); for
    /// anything else through <see cref="Gather"/> and a copy.
    /// </summary>
    /// <param name="indices">A 1-D integer tensor of row indices (int64 on the CPU for the managed pass).</param>
    /// <param name="destination">Where the rows go.</param>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the set (on the managed pass; through
    /// <see cref="Gather"/>, torch's own error).</exception>
    internal void GatherInto(Tensor indices, Tensor destination)
    {
        // Each property of a tensor is a native call: read them once, not per row.
        long count = Count;
        long features = Data.numel() / count;
        var dtype = Data.dtype;
        // The destination may come from code of the user's own (an IFusedNetworkPass's buffer): its size is checked
        // here, and the managed pass writes only into contiguous float32 on the CPU; anything else is copied into.
        long rowsWanted = indices.numel();
        if (destination.numel() != rowsWanted * features)
            throw new ArgumentException(
                $"The destination {TensorChecks.Shape(destination)} does not hold {rowsWanted} inputs of {features} values.", nameof(destination));
        if (Preprocessing is not InputScaling scaling || Data.device_type != DeviceType.CPU || !Data.is_contiguous()
            || destination.dtype != ScalarType.Float32 || destination.device_type != DeviceType.CPU || !destination.is_contiguous()
            || dtype is not (ScalarType.Byte or ScalarType.Float32)
            || indices.dtype != ScalarType.Int64 || indices.device_type != DeviceType.CPU || !indices.is_contiguous()
            || count * features * (dtype == ScalarType.Byte ? 1 : 4) > int.MaxValue)
        {
            using var gathered = Gather(indices);
            destination.copy_(gathered.reshape(destination.shape));
            return;
        }

        var rows = MemoryMarshal.Cast<byte, long>(indices.bytes);
        var output = MemoryMarshal.Cast<byte, float>(destination.bytes);
        int width = (int)features;
        // Gather computes (x·scale − mean)/std in float32; the same three operations here, in the same order.
        float scale = scaling.Scale, mean = scaling.Mean, deviation = scaling.StandardDeviation;
        bool scaleOnly = scaling.IsScaleOnly;
        var stored = Data.bytes;
        int rowBytes = width * (dtype == ScalarType.Byte ? 1 : 4);
        for (int r = 0; r < rows.Length; r++)
        {
            long row = rows[r];
            if ((ulong)row >= (ulong)count)
                throw new ArgumentOutOfRangeException(nameof(indices), row, $"Index {row} is outside the set of {count} inputs.");
        }

        // The rows are scattered over the set, so each is a trip to memory. Converting a row takes longer than the
        // processor looks ahead, so trips would be made one row at a time; touching one byte of every cache line of
        // every row first (loads that do not depend on each other) lets the processor make many trips at once.
        int touched = 0;
        foreach (long row in rows)
        {
            var bytes = stored.Slice((int)(row * rowBytes), rowBytes);
            for (int b = 0; b < bytes.Length; b += 64)
                touched += bytes[b];
        }

        // Kept somewhere the compiler cannot prove unused, so the touching loop is not removed.
        _touchedSink = touched;
        for (int r = 0; r < rows.Length; r++)
        {
            long row = rows[r];
            var target = output.Slice(r * width, width);
            if (dtype == ScalarType.Byte)
                ConvertBytes(stored.Slice(checked((int)(row * width)), width), target, scale);
            else
                ScaleFloats(MemoryMarshal.Cast<byte, float>(stored).Slice(checked((int)(row * width)), width), target, scale);
            if (!scaleOnly)
            {
                for (int c = 0; c < width; c++)
                    target[c] = (target[c] - mean) / deviation;
            }
        }
    }

    private static void ConvertBytes(ReadOnlySpan<byte> source, Span<float> target, float scale)
    {
        int c = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var factor = new Vector<float>(scale);
            for (; c <= source.Length - Vector<byte>.Count; c += Vector<byte>.Count)
            {
                Vector.Widen(new Vector<byte>(source.Slice(c)), out var low, out var high);
                Vector.Widen(low, out var a, out var b);
                Vector.Widen(high, out var d, out var e);
                int n = Vector<float>.Count;
                (Vector.ConvertToSingle(Vector.AsVectorInt32(a)) * factor).CopyTo(target.Slice(c));
                (Vector.ConvertToSingle(Vector.AsVectorInt32(b)) * factor).CopyTo(target.Slice(c + n));
                (Vector.ConvertToSingle(Vector.AsVectorInt32(d)) * factor).CopyTo(target.Slice(c + 2 * n));
                (Vector.ConvertToSingle(Vector.AsVectorInt32(e)) * factor).CopyTo(target.Slice(c + 3 * n));
            }
        }

        for (; c < source.Length; c++)
            target[c] = source[c] * scale;
    }

    private static void ScaleFloats(ReadOnlySpan<float> source, Span<float> target, float scale)
    {
        if (scale == 1f)
        {
            source.CopyTo(target);
            return;
        }

        for (int c = 0; c < source.Length; c++)
            target[c] = source[c] * scale;
    }

    /// <summary>
    /// What training and a trained model both do to raw rows of any real dtype: convert to float32 and apply the
    /// preprocessing. The result is always a new tensor, never <paramref name="rows"/> itself, so callers may dispose both.
    /// </summary>
    internal static Tensor Prepare(IInputPreprocessing preprocessing, Tensor rows)
    {
        if (preprocessing is InputScaling scaling)
            return scaling.ApplyToStored(rows);
        using var floats = rows.to_type(ScalarType.Float32);
        var prepared = preprocessing.Apply(floats);
        // A preprocessing may hand back its input (an identity): give the caller a reference of its own.
        return ReferenceEquals(prepared, floats) || ReferenceEquals(prepared, rows) ? prepared.alias() : prepared;
    }

    /// <summary>Throws unless the inputs are on <paramref name="device"/>, the device of the network that will read them.</summary>
    internal void CheckDevice(Device device)
    {
        if (Device.type != device.type || Device.index != device.index)
            throw new ArgumentException(
                $"The inputs are on {Device} but the model is on {device}; move them with InputSet.To(device).", "inputs");
    }

    /// <summary>Copies the set to another device (a new set that owns its own tensor, with the same preprocessing).</summary>
    /// <param name="device">The target device.</param>
    public InputSet To(Device device) => new(Data.to(device), Preprocessing);

    /// <inheritdoc />
    public void Dispose() => Data.Dispose();
}
