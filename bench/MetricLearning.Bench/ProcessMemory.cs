using System;
using System.Diagnostics;
using System.Globalization;

namespace MetricLearning.Bench;

/// <summary>The process's memory as the kernel counts it.</summary>
internal static class ProcessMemory
{
    /// <summary>Peak resident set size (VmHWM) in MB; the runtime's peak working set where /proc is missing.</summary>
    internal static double PeakRssMegabytes()
    {
        if (System.IO.File.Exists("/proc/self/status"))
        {
            foreach (string line in System.IO.File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
            }
        }

        return Process.GetCurrentProcess().PeakWorkingSet64 / 1e6;
    }
}
