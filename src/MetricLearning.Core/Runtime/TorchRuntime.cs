using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Runtime;

/// <summary>
/// Loads TorchSharp's native backend with a useful error, picks devices and sets the CPU thread count.
/// </summary>
/// <remarks>
/// TorchSharp loads libtorch lazily on its first call and, when that fails, reports that the app "doesn't contain a
/// reference to libtorch-cpu" whatever the cause was. <see cref="EnsureLoaded"/> makes that first call and, on
/// failure, loads the shim itself to read the operating system's own reason (for example a missing
/// <c>GLIBCXX_3.4.32</c>), which it puts first in a <see cref="TorchLoadException"/>.
/// </remarks>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool _loaded;

    /// <summary>Makes sure the native torch backend is loaded; idempotent and thread-safe.</summary>
    /// <exception cref="TorchLoadException">The native backend could not be loaded; the message says why.</exception>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_loaded)
                return;
            try
            {
                // The first call into torch loads the native libraries.
                _ = cuda.is_available();
                _loaded = true;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                throw new TorchLoadException(DiagnoseLoadFailure(), ex);
            }
        }
    }

    /// <summary>Resolves a <see cref="ComputeDevice"/> to a TorchSharp device.</summary>
    /// <param name="device">The requested device.</param>
    /// <returns>The CPU, or the first CUDA device.</returns>
    /// <exception cref="InvalidOperationException"><see cref="ComputeDevice.Cuda"/> was requested but CUDA is not available.</exception>
    public static Device Resolve(ComputeDevice device)
    {
        EnsureLoaded();
        return device switch
        {
            ComputeDevice.Cpu => CPU,
            ComputeDevice.Auto => cuda.is_available() ? CUDA : CPU,
            ComputeDevice.Cuda when cuda.is_available() => CUDA,
            ComputeDevice.Cuda => throw new InvalidOperationException(
                "Device 'cuda' was requested but CUDA is not available: reference TorchSharp-cuda-linux instead of TorchSharp-cpu " +
                "(build with -p:TorchSharpBackend=cuda in this repository) and check that an NVIDIA driver is installed."),
            _ => throw new ArgumentOutOfRangeException(nameof(device), device, "Unknown compute device."),
        };
    }

    /// <summary>Sets the number of threads torch uses for intra-op parallelism on the CPU.</summary>
    /// <param name="threads">At least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is less than 1.</exception>
    public static void SetThreadCount(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        EnsureLoaded();
        set_num_threads(threads);
    }

    /// <summary>
    /// The thread count MetricLearning's sample and benchmarks use unless told otherwise: all cores but one, and at
    /// least one.
    /// </summary>
    /// <remarks>
    /// torch's own default is one thread per core. Its OpenMP pool waits for every thread at the end of every
    /// operation, so when another process takes one of the cores each operation waits for a descheduled thread: on a
    /// 2-core machine with one core busy, two threads trained the reference experiment about 4 times slower than
    /// one (measured: 8.2 s against 2.2-2.7 s per epoch). Leaving a core free degrades gracefully; on an idle
    /// machine all cores are faster (1.45 s against 2.1 s per epoch there), so pass the count explicitly when the
    /// machine is yours alone.
    /// </remarks>
    public static int RecommendedThreadCount => Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>
    /// Tunes the C library's allocator for torch's large tensors, where that library is glibc (Linux): blocks of up to
    /// 32 MiB come from the heap instead of fresh memory maps, and up to 1 GiB of freed memory is kept for reuse
    /// instead of being handed back to the system. Call it once at start-up, before training.
    /// </summary>
    /// <remarks>
    /// By default glibc maps every block above 128 KiB afresh and unmaps it when freed, so each training step touches
    /// new pages of its activations and the kernel zeroes them on first use: in a virtual machine that page-fault work
    /// can take longer than the arithmetic. Measured on 2 AMD EPYC cores (2026-11-30, <c>bench conv --threads 2</c>,
    /// two runs each way, alternating): a training step of the small CNN on 320 images took 320 and 377 ms without it,
    /// 128 and 126 ms with it. The cost: the process keeps up to 1 GiB of freed memory. Process-wide and not undone;
    /// the library never calls it for you.
    /// </remarks>
    /// <returns>Whether the allocator was tuned (false off Linux, or where the C library has no <c>mallopt</c>).</returns>
    public static bool TuneNativeAllocator()
    {
        if (!OperatingSystem.IsLinux())
            return false;
        try
        {
            const int TrimThreshold = -1, MmapThreshold = -3; // glibc's M_TRIM_THRESHOLD and M_MMAP_THRESHOLD
            return mallopt(MmapThreshold, 32 * 1024 * 1024) == 1 && mallopt(TrimThreshold, 1024 * 1024 * 1024) == 1;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int parameter, int value);

    /// <summary>The number of threads torch uses for intra-op parallelism on the CPU.</summary>
    public static int ThreadCount
    {
        get
        {
            EnsureLoaded();
            return get_num_threads();
        }
    }

    private static string DiagnoseLoadFailure()
    {
        string shimName = OperatingSystem.IsWindows() ? "LibTorchSharp.dll"
            : OperatingSystem.IsMacOS() ? "libLibTorchSharp.dylib" : "libLibTorchSharp.so";
        string? shim = CandidateShimPaths(shimName).FirstOrDefault(File.Exists);
        if (shim is null)
            return $"TorchSharp's native library ({shimName}) is not in the app's output. Add a backend package to the app: " +
                   "TorchSharp-cpu, or TorchSharp-cuda-linux / TorchSharp-cuda-windows for NVIDIA GPUs.";

        string reason;
        try
        {
            NativeLibrary.Free(NativeLibrary.Load(shim));
            reason = "the shim loads on its own, so libtorch itself failed to initialise (see the inner exception)";
        }
        catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException)
        {
            reason = ex.Message;
        }

        string message = $"TorchSharp's native library could not be loaded from '{shim}': {reason}.";
        if (reason.Contains("GLIBCXX_", StringComparison.Ordinal))
            message += " Cause: this system's libstdc++ is older than the one TorchSharp's shim was linked against " +
                       "(Debian 12 and Ubuntu 22.04 stop at GLIBCXX_3.4.30). The MetricLearning package patches the copy in " +
                       "your build output so that it loads (MSBuild property MetricLearningPatchLibTorchSharp, on by default): " +
                       "rebuild the app, and delete any 'cpu' or 'cuda-*' folder TorchSharp left beside TorchSharp.dll after the failed load.";
        return message;
    }

    private static IEnumerable<string> CandidateShimPaths(string shimName)
    {
        string rid = RuntimeInformation.RuntimeIdentifier;
        string arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        foreach (string root in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? "" })
        {
            if (root.Length == 0)
                continue;
            yield return Path.Combine(root, shimName);
            yield return Path.Combine(root, "runtimes", rid, "native", shimName);
            yield return Path.Combine(root, "runtimes", $"{os}-{arch}", "native", shimName);
        }
    }
}
