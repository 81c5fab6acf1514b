using System;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>What the hand-written passes share: a tensor's elements as a span.</summary>
internal static class FusedBuffers
{
    /// <summary>A contiguous CPU float32 tensor's elements, in place.</summary>
    /// <exception cref="InvalidOperationException">The tensor is not contiguous float32 on the CPU.</exception>
    internal static Span<float> Floats(Tensor tensor)
    {
        if (tensor.dtype != ScalarType.Float32 || tensor.device_type != DeviceType.CPU || !tensor.is_contiguous())
            throw new InvalidOperationException($"A fused step needs contiguous float32 tensors on the CPU; got {tensor.dtype} on {tensor.device}.");
        return MemoryMarshal.Cast<byte, float>(tensor.bytes);
    }
}
