using System;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Data;

/// <summary>
/// A whole set of inputs held as one tensor on the training device, from which batches are gathered by index.
/// </summary>
/// <remarks>
/// <para>
/// Inputs may be stored compactly (for example as bytes) and are converted per batch:
/// <c>batch = float32(data[indices]) * Scale</c>. MNIST images are kept as bytes with <c>Scale = 1/255</c>,
/// a quarter of the memory of float32 and the same values the reference experiment feeds its network.
/// </para>
/// <para>The set owns <see cref="Data"/> and disposes it. Not thread-safe.</para>
/// </remarks>
public sealed class InputSet : IDisposable
{
    /// <summary>Wraps a tensor of inputs; takes ownership of it.</summary>
    /// <param name="data">Shape <c>[N, ...]</c> with N &gt; 0; any real dtype.</param>
    /// <param name="scale">Factor applied after converting a gathered batch to float32; finite and non-zero.</param>
    /// <exception cref="ArgumentException">The tensor has no rows or is not real-valued, or the scale is not finite and non-zero.</exception>
    public InputSet(Tensor data, float scale = 1f)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.dim() < 1 || data.shape[0] == 0)
            throw new ArgumentException($"An input set needs a tensor of shape [N, ...] with N > 0; got [{string.Join(", ", data.shape)}].", nameof(data));
        if (data.dtype == ScalarType.Bool || data.is_complex())
            throw new ArgumentException($"An input set needs real-valued inputs; got dtype {data.dtype}.", nameof(data));
        if (!float.IsFinite(scale) || scale == 0f)
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale must be finite and non-zero.");

        Data = data.DetachFromDisposeScope();
        Scale = scale;
        _scale = scale.ToScalar();
    }

    // TorchSharp frees a Scalar only when it is disposed or finalised; one made per batch would pile up
    // native memory between garbage collections, so the few the hot path needs are made once.
    private readonly Scalar _scale;

    /// <summary>The stored inputs, shape <c>[N, ...]</c>.</summary>
    public Tensor Data { get; }

    /// <summary>Factor applied to each gathered batch after conversion to float32.</summary>
    public float Scale { get; }

    /// <summary>Number of inputs (rows).</summary>
    public long Count => Data.shape[0];

    /// <summary>The device the inputs live on.</summary>
    public Device Device => Data.device;

    /// <summary>Gathers the rows named by <paramref name="indices"/> as a float32 batch.</summary>
    /// <param name="indices">A 1-D int64 tensor of row indices on <see cref="Device"/>.</param>
    /// <returns>Shape <c>[indices.Length, ...]</c>, float32, in the caller's dispose scope.</returns>
    public Tensor Gather(Tensor indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        using var rows = Data.index_select(0, indices);
        if (rows.dtype == ScalarType.Float32)
            return Scale == 1f ? rows.alias() : rows.mul(_scale);
        // An integer tensor times a floating-point Scalar is float32: conversion and scaling in one pass.
        return Scale == 1f ? rows.to_type(ScalarType.Float32) : rows.mul(_scale);
    }

    /// <summary>Throws unless the inputs are on <paramref name="device"/>, the device of the network that will read them.</summary>
    internal void CheckDevice(Device device)
    {
        if (Device.type != device.type || Device.index != device.index)
            throw new ArgumentException(
                $"The inputs are on {Device} but the model is on {device}; move them with InputSet.To(device).", "inputs");
    }

    /// <summary>Copies the set to another device (a new set that owns its own tensor).</summary>
    /// <param name="device">The target device.</param>
    public InputSet To(Device device) => new(Data.to(device), Scale);

    /// <inheritdoc />
    public void Dispose()
    {
        Data.Dispose();
        _scale.Dispose();
    }
}
