using System;
using System.IO;

namespace MetricLearning;

/// <summary>Writes a file so that readers see the old file or the whole new one, never a part: a temporary file beside it, then a rename.</summary>
internal static class AtomicFile
{
    /// <summary>Creates the target's folder, lets <paramref name="writeTemporary"/> write a temporary path, then renames it over the target.</summary>
    internal static void Write(string path, Action<string> writeTemporary)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        string? folder = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(folder))
            Directory.CreateDirectory(folder);
        string temporary = full + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            writeTemporary(temporary);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
    }
}
