using System;
using System.IO;
using System.Linq;
using FluentAssertions;
using MetricLearning.Tests.TestSupport;
using Xunit;

namespace MetricLearning.Tests.Core.Runtime;

public sealed class ElfVersionPatcherTests
{
    private static readonly string[] Weakened = { "GLIBCXX_3.4.32" };

    /// <summary>The copy of TorchSharp's shim in this test's output, which the build patched.</summary>
    /// <remarks>Null off Linux, where there is no ELF shim; on Linux a missing shim fails the test.</remarks>
    private static string? ShimInOutput()
    {
        if (!OperatingSystem.IsLinux())
            return null;
        string? shim = new[] { "libLibTorchSharp.so", Path.Combine("runtimes", "linux-x64", "native", "libLibTorchSharp.so") }
            .Select(relative => Path.Combine(AppContext.BaseDirectory, relative))
            .FirstOrDefault(File.Exists);
        shim.Should().NotBeNull("the Linux build output holds TorchSharp's shim");
        return shim;
    }

    [Fact]
    public void The_build_marked_only_GLIBCXX_3_4_32_weak_in_the_shim_it_copied()
    {
        string? shim = ShimInOutput();
        if (shim is null)
            return; // Not Linux: there is no ELF shim to patch.

        var requirements = ElfVersionPatcher.ReadRequirements(File.ReadAllBytes(shim), shim);

        requirements.Should().Contain(r => r.Version == "GLIBCXX_3.4.32" && r.File == "libstdc++.so.6" && r.IsWeak);
        requirements.Where(r => r.Version != "GLIBCXX_3.4.32").Should().OnlyContain(r => !r.IsWeak);
    }

    [Fact]
    public void MarkWeak_sets_the_weak_flag_once_and_changes_nothing_else()
    {
        string? shim = ShimInOutput();
        if (shim is null)
            return;
        using var folder = new TempFolder();
        string copy = folder.File("lib.so");
        byte[] original = File.ReadAllBytes(shim);
        // Undo the build's patch to get the file as TorchSharp ships it.
        var flagged = ElfVersionPatcher.ReadRequirements(original, shim).Single(r => r.Version == "GLIBCXX_3.4.32");
        original[flagged.FlagsOffset] &= unchecked((byte)~0x2);
        File.WriteAllBytes(copy, original);

        var first = ElfVersionPatcher.MarkWeak(copy, Weakened);
        var second = ElfVersionPatcher.MarkWeak(copy, Weakened);

        first.Should().Equal("GLIBCXX_3.4.32");
        second.Should().BeEmpty("the file is already patched");
        byte[] patched = File.ReadAllBytes(copy);
        var differences = Enumerable.Range(0, patched.Length).Where(i => patched[i] != original[i]).ToList();
        differences.Should().Equal(flagged.FlagsOffset);
        Directory.GetFiles(folder.Path).Should().Equal(copy);
    }

    [Fact]
    public void A_file_that_is_not_elf_is_refused_and_left_alone()
    {
        using var folder = new TempFolder();
        string path = folder.File("not-elf.so");
        File.WriteAllText(path, "this is plain text, long enough to have a header's worth of bytes in it.......");

        var act = () => ElfVersionPatcher.MarkWeak(path, Weakened);

        act.Should().Throw<InvalidDataException>().WithMessage($"*{path}*not an ELF file*");
        File.ReadAllText(path).Should().StartWith("this is plain text");
    }

    [Fact]
    public void A_truncated_elf_file_is_refused()
    {
        string? shim = ShimInOutput();
        if (shim is null)
            return;
        using var folder = new TempFolder();
        string path = folder.File("truncated.so");
        File.WriteAllBytes(path, File.ReadAllBytes(shim).AsSpan(0, 4096).ToArray());

        var act = () => ElfVersionPatcher.MarkWeak(path, Weakened);

        act.Should().Throw<InvalidDataException>().WithMessage("*truncated or malformed*");
    }
}
