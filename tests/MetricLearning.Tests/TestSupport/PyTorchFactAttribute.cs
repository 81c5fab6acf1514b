using System;
using Xunit;

namespace MetricLearning.Tests.TestSupport;

/// <summary>
/// A test that runs Debian's PyTorch (python3-torch, python3-torchvision); skipped, saying so, where they are not
/// installed. CI installs them and fails if such a test was skipped.
/// </summary>
public sealed class PyTorchFactAttribute : FactAttribute
{
    private static readonly Lazy<bool> Available = new(() => DebianPython.CanImport("torch, torchvision"));

    public PyTorchFactAttribute()
    {
        if (!Available.Value)
            Skip = $"PyTorch interop test: needs {DebianPython.Interpreter} with torch and torchvision (apt-get install python3-torch python3-torchvision).";
    }
}
