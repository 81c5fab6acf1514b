using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace MetricLearning.VectorData;

/// <summary>
/// A collection's records on disk: an append-only file of JSON lines (an upsert or a deletion each), flushed to disk
/// before a write returns, and rewritten (atomically) with only the live records when deletions and replacements have
/// made it more than twice as long as it needs to be.
/// </summary>
/// <remarks>
/// A process killed while appending leaves at most one partial last line (no newline yet): reading drops it and cuts
/// the file back to the last whole line, so the record whose write did not return is the only one lost. Any other
/// line that is not valid is damage, reported naming the file and the line.
/// </remarks>
internal sealed class CollectionLog : IDisposable
{
    private readonly string _path;
    private FileStream? _stream;

    internal CollectionLog(string path)
    {
        _path = path;
    }

    /// <summary>How many lines the file holds.</summary>
    internal long Lines { get; private set; }

    /// <summary>Reads every whole line (creating an empty file if there is none), then opens the file for appending.</summary>
    /// <param name="apply">Called with each line and its number (from 1); throws <see cref="InvalidDataException"/> for a line it cannot read.</param>
    internal void Open(Action<string, long> apply)
    {
        if (!File.Exists(_path))
            AtomicFile.Write(_path, temporary => File.WriteAllBytes(temporary, Array.Empty<byte>()));
        byte[] bytes = File.ReadAllBytes(_path);
        int start = 0;
        long number = 0;
        while (start < bytes.Length)
        {
            int end = Array.IndexOf(bytes, (byte)'\n', start);
            if (end < 0)
                break; // a partial last line: its write never returned
            number++;
            string line;
            try
            {
                line = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, start, end - start);
            }
            catch (DecoderFallbackException ex)
            {
                throw new InvalidDataException($"'{_path}' line {number} is not UTF-8 text.", ex);
            }

            apply(line, number);
            start = end + 1;
        }

        Lines = number;
        _stream = new FileStream(_path, FileMode.Open, FileAccess.Write, FileShare.Read);
        if (_stream.Length != start)
            _stream.SetLength(start);
        _stream.Seek(0, SeekOrigin.End);
    }

    /// <summary>Appends lines and flushes them to disk.</summary>
    internal void Append(IReadOnlyList<string> lines)
    {
        var stream = _stream ?? throw new InvalidOperationException("The collection's file is not open.");
        var builder = new StringBuilder();
        foreach (string line in lines)
            builder.Append(line).Append('\n');
        byte[] bytes = Encoding.UTF8.GetBytes(builder.ToString());
        long before = stream.Length;
        try
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        catch (IOException)
        {
            // Leave no partial lines behind a failed write (a full disk, say).
            stream.SetLength(before);
            stream.Seek(0, SeekOrigin.End);
            throw;
        }

        Lines += lines.Count;
    }

    /// <summary>Replaces the file with these lines, atomically, and appends after them from then on.</summary>
    internal void Rewrite(IEnumerable<string> lines)
    {
        _stream?.Dispose();
        _stream = null;
        long count = 0;
        AtomicFile.Write(_path, temporary =>
        {
            using var writer = new StreamWriter(temporary, append: false, new UTF8Encoding(false));
            foreach (string line in lines)
            {
                writer.Write(line);
                writer.Write('\n');
                count++;
            }

            writer.Flush();
            ((FileStream)writer.BaseStream).Flush(flushToDisk: true);
        });
        Lines = count;
        _stream = new FileStream(_path, FileMode.Open, FileAccess.Write, FileShare.Read);
        _stream.Seek(0, SeekOrigin.End);
    }

    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null;
    }
}
