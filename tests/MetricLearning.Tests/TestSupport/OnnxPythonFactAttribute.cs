using System;
using System.Diagnostics;
using Xunit;

namespace MetricLearning.Tests.TestSupport;

/// <summary>
/// A test that runs Debian's ONNX checker and PyTorch (python3-onnx, python3-torch, python3-torchvision); skipped,
/// saying so, where they are not installed. CI installs them and fails if such a test was skipped.
/// </summary>
public sealed class OnnxPythonFactAttribute : FactAttribute
{
    private static readonly Lazy<bool> Available = new(() =>
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(PyTorchFactAttribute.Python, "-c \"import onnx, torch, torchvision\""));
            if (process is null)
                return false;
            if (!process.WaitForExit(120_000))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }

            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });

    public OnnxPythonFactAttribute()
    {
        if (!Available.Value)
            Skip = $"ONNX interop test: needs {PyTorchFactAttribute.Python} with onnx, torch and torchvision (apt-get install python3-onnx python3-torch python3-torchvision).";
    }
}
