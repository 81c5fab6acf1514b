using System;
using FluentAssertions;
using MetricLearning.Runtime;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Runtime;

public sealed class TorchRuntimeTests
{
    [Fact]
    public void Torch_loads_and_the_cpu_resolves()
    {
        TorchRuntime.EnsureLoaded();

        TorchRuntime.Resolve(ComputeDevice.Cpu).type.Should().Be(TorchSharp.DeviceType.CPU);
        TorchRuntime.Resolve(ComputeDevice.Auto).type.Should().Be(cuda.is_available() ? TorchSharp.DeviceType.CUDA : TorchSharp.DeviceType.CPU);
    }

    [Fact]
    public void Asking_for_cuda_without_it_explains_the_backend_switch()
    {
        if (cuda.is_available())
            return; // A GPU machine: the request is satisfiable.

        var act = () => TorchRuntime.Resolve(ComputeDevice.Cuda);

        act.Should().Throw<InvalidOperationException>().WithMessage("*TorchSharp-cuda-linux*");
    }

    [Fact]
    public void The_thread_count_is_set_and_read_back()
    {
        int before = TorchRuntime.ThreadCount;
        try
        {
            TorchRuntime.SetThreadCount(1);
            TorchRuntime.ThreadCount.Should().Be(1);
        }
        finally
        {
            TorchRuntime.SetThreadCount(before);
        }
    }

    [Fact]
    public void A_thread_count_below_one_is_refused()
    {
        var act = () => TorchRuntime.SetThreadCount(0);

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("threads");
    }
}
