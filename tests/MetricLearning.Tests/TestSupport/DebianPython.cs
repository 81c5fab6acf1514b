using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;

namespace MetricLearning.Tests.TestSupport;

/// <summary>
/// Debian's interpreter, which sees Debian's packages (a pyenv or venv python may not): whether modules import, and
/// running one of our scripts, for the tests that check against PyTorch and ONNX.
/// </summary>
internal static class DebianPython
{
    /// <summary>The interpreter's path.</summary>
    internal const string Interpreter = "/usr/bin/python3";

    /// <summary>Whether <c>import <paramref name="modules"/></c> succeeds; a hung import is killed after two minutes and counts as no.</summary>
    internal static bool CanImport(string modules)
    {
        try
        {
            // Output is not redirected, so that nothing can fill a pipe and block it.
            using var process = Process.Start(new ProcessStartInfo(Interpreter, $"-c \"import {modules}\""));
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
    }

    /// <summary>Runs a script of the repository with arguments: its exit code, its output and its errors.</summary>
    /// <param name="script">The script's path under the repository's root, as path segments.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <exception cref="TimeoutException">It ran for five minutes, far beyond what the tests' scripts take; it is killed so that a hang fails the test instead of the run.</exception>
    internal static (int ExitCode, string Output, string Errors) Run(IReadOnlyList<string> script, params string[] arguments)
    {
        var start = new ProcessStartInfo(Interpreter) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(Repository.Root, Path.Combine([.. script])));
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{Interpreter} did not start.");
        var errors = process.StandardError.ReadToEndAsync();
        var reading = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(300_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{string.Join('/', script)} {string.Join(' ', arguments)} did not finish in 5 minutes.");
        }

        return (process.ExitCode, reading.Result, errors.Result);
    }
}
