using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;
using FluentAssertions;
using MetricLearning.Tests.TestSupport;
using MetricLearning.Training;
using Xunit;
using Xunit.Abstractions;

namespace MetricLearning.Tests.Core.Training;

/// <summary>
/// A training process killed outright (SIGKILL, no chance to save anything) at random moments and resumed each time
/// from its last checkpoint ends with exactly the weights of a run that was never interrupted.
/// </summary>
public sealed class KillAndResumeTests(ITestOutputHelper output)
{
    private static string HostPath()
    {
        // tests/MetricLearning.Tests/bin/<Configuration>/<tfm>/ → tests/MetricLearning.CheckpointHost/bin/<Configuration>/<tfm>/
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = here.Name, configuration = here.Parent!.Name;
        string tests = here.Parent.Parent!.Parent!.Parent!.FullName;
        string path = Path.Combine(tests, "MetricLearning.CheckpointHost", "bin", configuration, framework, "MetricLearning.CheckpointHost.dll");
        File.Exists(path).Should().BeTrue($"the host is built with the solution ({path})");
        return path;
    }

    private static Process Start(string host, string folder, string weights, bool resume)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[] { host, folder, weights })
            start.ArgumentList.Add(argument);
        if (resume)
            start.ArgumentList.Add("--resume");
        return Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
    }

    private static async Task WaitForTrainingAsync(Process process)
    {
        var line = process.StandardOutput.ReadLineAsync();
        (await Task.WhenAny(line, Task.Delay(TimeSpan.FromSeconds(120)))).Should().Be(line, "the host starts training within two minutes");
        string? first = await line;
        if (first != "training")
            first.Should().Be("training", "the host says when it starts training; it wrote: " + await process.StandardError.ReadToEndAsync());
    }

    [Fact]
    public async Task A_process_killed_at_random_moments_resumes_to_the_uninterrupted_weights()
    {
        string host = HostPath();
        using var folder = new TempFolder();
        string referenceWeights = folder.File("reference.bin"), resumedWeights = folder.File("resumed.bin");
        string checkpoints = folder.File("checkpoints");
        using (var reference = Start(host, folder.File("reference-checkpoints"), referenceWeights, resume: false))
        {
            await reference.WaitForExitAsync();
            reference.ExitCode.Should().Be(0, await reference.StandardError.ReadToEndAsync());
        }

        var random = new Random(20261130);
        int kills = 0, resumes = 0;
        for (int run = 0; run < 30; run++)
        {
            bool resume = File.Exists(Path.Combine(checkpoints, CheckpointOptions.FileName));
            resumes += resume ? 1 : 0;
            using var process = Start(host, checkpoints, resumedWeights, resume);
            await WaitForTrainingAsync(process);
            if (kills < 5)
            {
                int delay = random.Next(300, 1500);
                await Task.Delay(delay);
                if (!process.HasExited)
                {
                    process.Kill();   // SIGKILL on Linux and macOS: no handler runs, no checkpoint is saved.
                    await process.WaitForExitAsync();
                    kills++;
                    output.WriteLine($"run {run}: killed {delay} ms into training{(resume ? " after resuming" : "")}");
                    continue;
                }
            }

            await process.WaitForExitAsync();
            process.ExitCode.Should().Be(0, await process.StandardError.ReadToEndAsync());
            output.WriteLine($"run {run}: finished{(resume ? " after resuming" : "")}");
            break;
        }

        kills.Should().BeGreaterThanOrEqualTo(3, "the host was killed mid-run several times");
        resumes.Should().BeGreaterThanOrEqualTo(3, "runs resumed from checkpoints");
        File.ReadAllBytes(resumedWeights).Should().Equal(File.ReadAllBytes(referenceWeights), "the resumed run's final weights are bit-identical");
    }
}
