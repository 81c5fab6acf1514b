// Marks chosen symbol-version requirements of an ELF shared library as weak.
//
// Why: TorchSharp 0.107.0's native shim libLibTorchSharp.so was linked against
// GCC 13's libstdc++ and so requires the version GLIBCXX_3.4.32. Debian 12 and
// Ubuntu 22.04 ship libstdc++ only up to GLIBCXX_3.4.30, so the dynamic loader
// refuses the library and TorchSharp reports a misleading "doesn't contain a
// reference to libtorch-cpu" error. The only symbol bound to GLIBCXX_3.4.32 is
// std::ios_base_library_init(), a link-time marker that is never called. A
// version requirement flagged VER_FLG_WEAK in .gnu.version_r is not fatal when
// the provider lacks it (glibc's loader only reports it in verbose mode), so
// flagging that one requirement lets the shim load on those systems and changes
// nothing where the version exists.
//
// This file is compiled twice: by MSBuild's RoslynCodeTaskFactory into the
// MetricLearningMarkElfVersionsWeak task (buildTransitive/MetricLearning.targets,
// which patches the copy in a build or publish output, never the NuGet cache),
// and into the unit tests with ELF_PATCHER_ONLY defined, which leaves out the
// MSBuild task class.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

/// <summary>Reads and edits the symbol-version requirements (.gnu.version_r) of an ELF64 file.</summary>
internal static class ElfVersionPatcher
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    /// <summary>One version requirement: the library that must provide it, its name and its flags.</summary>
    internal readonly struct VersionRequirement
    {
        internal VersionRequirement(string file, string version, ushort flags, int flagsOffset)
        {
            File = file;
            Version = version;
            Flags = flags;
            FlagsOffset = flagsOffset;
        }

        internal string File { get; }
        internal string Version { get; }
        internal ushort Flags { get; }
        internal int FlagsOffset { get; }
        internal bool IsWeak => (Flags & VerFlagWeak) != 0;
    }

    /// <summary>Lists every version requirement of the ELF64 little-endian file held in <paramref name="image"/>.</summary>
    internal static List<VersionRequirement> ReadRequirements(byte[] image, string pathForErrors)
    {
        if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
            throw new InvalidDataException($"'{pathForErrors}' is not an ELF file (bad magic number).");
        if (image[4] != 2 || image[5] != 1)
            throw new InvalidDataException($"'{pathForErrors}' is not a 64-bit little-endian ELF file (class {image[4]}, data {image[5]}).");

        long sectionTable = ReadInt64(image, 0x28, pathForErrors);
        int sectionSize = ReadUInt16(image, 0x3A, pathForErrors);
        int sectionCount = ReadUInt16(image, 0x3C, pathForErrors);
        if (sectionSize < 64)
            throw new InvalidDataException($"'{pathForErrors}' has section headers of {sectionSize} bytes; ELF64 needs 64.");

        var result = new List<VersionRequirement>();
        for (int s = 0; s < sectionCount; s++)
        {
            int header = Checked(sectionTable + (long)s * sectionSize, 64, image, pathForErrors);
            if (ReadUInt32(image, header + 4, pathForErrors) != ShtGnuVerneed)
                continue;

            int sectionOffset = Checked(ReadInt64(image, header + 0x18, pathForErrors), 0, image, pathForErrors);
            int link = (int)ReadUInt32(image, header + 0x28, pathForErrors);
            int needCount = (int)ReadUInt32(image, header + 0x2C, pathForErrors);
            int stringHeader = Checked(sectionTable + (long)link * sectionSize, 64, image, pathForErrors);
            int strings = Checked(ReadInt64(image, stringHeader + 0x18, pathForErrors), 0, image, pathForErrors);

            int need = sectionOffset;
            for (int n = 0; n < needCount; n++)
            {
                Checked(need, 16, image, pathForErrors);
                int auxCount = ReadUInt16(image, need + 2, pathForErrors);
                string file = ReadString(image, strings + (int)ReadUInt32(image, need + 4, pathForErrors), pathForErrors);
                int aux = need + (int)ReadUInt32(image, need + 8, pathForErrors);
                for (int a = 0; a < auxCount; a++)
                {
                    Checked(aux, 16, image, pathForErrors);
                    ushort flags = ReadUInt16(image, aux + 4, pathForErrors);
                    string version = ReadString(image, strings + (int)ReadUInt32(image, aux + 8, pathForErrors), pathForErrors);
                    result.Add(new VersionRequirement(file, version, flags, aux + 4));
                    uint nextAux = ReadUInt32(image, aux + 12, pathForErrors);
                    if (nextAux == 0)
                        break;
                    aux += (int)nextAux;
                }

                uint nextNeed = ReadUInt32(image, need + 12, pathForErrors);
                if (nextNeed == 0)
                    break;
                need += (int)nextNeed;
            }
        }

        return result;
    }

    /// <summary>
    /// Flags each requirement named in <paramref name="versions"/> as weak, rewriting the file
    /// atomically (a temporary file beside it, then a rename) only if something changed.
    /// </summary>
    /// <returns>The versions that were strong before and are weak now.</returns>
    internal static List<string> MarkWeak(string path, ICollection<string> versions)
    {
        byte[] image = File.ReadAllBytes(path);
        var changed = new List<string>();
        foreach (var requirement in ReadRequirements(image, path))
        {
            if (!versions.Contains(requirement.Version) || requirement.IsWeak)
                continue;
            ushort flags = (ushort)(requirement.Flags | VerFlagWeak);
            image[requirement.FlagsOffset] = (byte)flags;
            image[requirement.FlagsOffset + 1] = (byte)(flags >> 8);
            changed.Add(requirement.Version);
        }

        if (changed.Count == 0)
            return changed;

        string temporary = path + ".metriclearning-tmp";
        try
        {
            // Copy first so the temporary file keeps the original's permissions, then overwrite its bytes.
            // (This file is also compiled by MSBuild against netstandard2.0, hence no File.Move(overwrite).)
            File.Copy(path, temporary, overwrite: true);
            File.WriteAllBytes(temporary, image);
            File.Replace(temporary, path, destinationBackupFileName: null);
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }

        return changed;
    }

    private static int Checked(long offset, int length, byte[] image, string path)
    {
        if (offset < 0 || offset + length > image.Length)
            throw new InvalidDataException($"'{path}' is truncated or malformed: offset {offset} (+{length} bytes) lies outside its {image.Length} bytes.");
        return (int)offset;
    }

    private static ushort ReadUInt16(byte[] image, int offset, string path)
    {
        Checked(offset, 2, image, path);
        return (ushort)(image[offset] | image[offset + 1] << 8);
    }

    private static uint ReadUInt32(byte[] image, int offset, string path)
    {
        Checked(offset, 4, image, path);
        return (uint)(image[offset] | image[offset + 1] << 8 | image[offset + 2] << 16 | image[offset + 3] << 24);
    }

    private static long ReadInt64(byte[] image, int offset, string path)
    {
        Checked(offset, 8, image, path);
        return (long)((ulong)ReadUInt32(image, offset, path) | (ulong)ReadUInt32(image, offset + 4, path) << 32);
    }

    private static string ReadString(byte[] image, int offset, string path)
    {
        Checked(offset, 1, image, path);
        int end = Array.IndexOf(image, (byte)0, offset);
        if (end < 0)
            throw new InvalidDataException($"'{path}' has an unterminated string at offset {offset}.");
        return Encoding.ASCII.GetString(image, offset, end - offset);
    }
}

#if !ELF_PATCHER_ONLY
/// <summary>MSBuild task: marks the given versions weak in each given ELF file.</summary>
public sealed class MetricLearningMarkElfVersionsWeak : Microsoft.Build.Utilities.Task
{
    /// <summary>The ELF files to patch (copies in an output folder).</summary>
    [Microsoft.Build.Framework.Required]
    public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

    /// <summary>Version names to flag weak, e.g. GLIBCXX_3.4.32.</summary>
    [Microsoft.Build.Framework.Required]
    public string[] Versions { get; set; } = Array.Empty<string>();

    /// <inheritdoc />
    public override bool Execute()
    {
        var versions = new HashSet<string>(Versions, StringComparer.Ordinal);
        foreach (var item in Files)
        {
            string path = item.GetMetadata("FullPath");
            try
            {
                var changed = ElfVersionPatcher.MarkWeak(path, versions);
                if (changed.Count > 0)
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                        $"MetricLearning: marked {string.Join(", ", changed)} weak in {path} so it loads with older libstdc++.");
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is InvalidDataException)
            {
                Log.LogError($"MetricLearning: could not patch '{path}': {ex.Message}");
            }
        }

        return !Log.HasLoggedErrors;
    }
}
#endif
