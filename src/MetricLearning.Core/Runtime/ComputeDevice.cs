namespace MetricLearning.Runtime;

/// <summary>Where tensors live and computation runs.</summary>
public enum ComputeDevice
{
    /// <summary>An NVIDIA GPU when TorchSharp's CUDA backend is referenced and a GPU is present; otherwise the CPU.</summary>
    Auto,

    /// <summary>The CPU.</summary>
    Cpu,

    /// <summary>The first NVIDIA GPU; fails with a clear message when CUDA is not available.</summary>
    Cuda,
}
