using System;
using System.Diagnostics;
using Xunit;

namespace MetricLearning.Tests.TestSupport;

/// <summary>
/// A test that runs Debian's PyTorch (python3-torch, python3-torchvision); skipped, saying so, where they are not
/// installed. CI installs them and fails if such a test was skipped.
/// </summary>
public sealed class PyTorchFactAttribute : FactAttribute
{
    /// <summary>Debian's interpreter, which sees Debian's packages (a pyenv or venv python may not).</summary>
    internal const string Python = "/usr/bin/python3";

    private static readonly Lazy<bool> Available = new(() =>
    {
        try
        {
            // Output is not redirected, so that nothing can fill a pipe and block it; a hung import is killed.
            using var process = Process.Start(new ProcessStartInfo(Python, "-c \"import torch, torchvision\""));
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

    public PyTorchFactAttribute()
    {
        if (!Available.Value)
            Skip = $"PyTorch interop test: needs {Python} with torch and torchvision (apt-get install python3-torch python3-torchvision).";
    }
}
