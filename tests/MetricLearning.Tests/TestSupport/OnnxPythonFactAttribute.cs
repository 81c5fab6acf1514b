using System;
using Xunit;

namespace MetricLearning.Tests.TestSupport;

/// <summary>
/// A test that runs Debian's ONNX checker and PyTorch (python3-onnx, python3-torch, python3-torchvision); skipped,
/// saying so, where they are not installed. CI installs them and fails if such a test was skipped.
/// </summary>
public sealed class OnnxPythonFactAttribute : FactAttribute
{
    private static readonly Lazy<bool> Available = new(() => DebianPython.CanImport("onnx, torch, torchvision"));

    public OnnxPythonFactAttribute()
    {
        if (!Available.Value)
            Skip = $"ONNX interop test: needs {DebianPython.Interpreter} with onnx, torch and torchvision (apt-get install python3-onnx python3-torch python3-torchvision).";
    }
}
