using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace MetricLearning.VectorData;

/// <summary>
/// A collection's records on disk: an append-only file of JSON lines, one per write (all the records of an upsert, or
/// all the keys of a deletion), flushed to disk before the write returns, and rewritten (atomically) with only the
/// live records when replacements and deletions have made it more than twice as long as it needs to be. The file is
/// held open with an exclusive lock, so a second store (in this process or another) cannot write it too.
/// </summary>
/// <remarks>
/// A process killed while appending leaves at most one partial last line (no newline yet): reading drops it and cuts
/// the file back to the last whole line, so the write that did not return is lost whole, never in part. Any other line
/// that is not valid is damage, reported naming the file and the line.
/// </remarks>
internal sealed class CollectionLog : IDisposable
{
    /// <summary>The longest line read, in bytes: far above any batch a caller sends at once, far below what would exhaust memory.</summary>
    private const int LongestLine = 1 << 28;

    private readonly string _path;
    private FileStream? _stream;

    internal CollectionLog(string path)
    {
        _path = path;
    }

    /// <summary>How many lines the file holds.</summary>
    internal long Lines { get; private set; }

    /// <summary>Locks the file (creating it if there is none), reads every whole line, then appends after them.</summary>
    /// <param name="apply">Called with each line and its number (from 1); throws <see cref="InvalidDataException"/> for a line it cannot read.</param>
    /// <exception cref="InvalidOperationException">Another store holds the file.</exception>
    /// <exception cref="InvalidDataException">A line is not UTF-8 or is longer than 256 MB, or <paramref name="apply"/> refused one.</exception>
    internal void Open(Action<string, long> apply)
    {
        var stream = Lock();
        try
        {
            var utf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);
            var buffer = new byte[1 << 16];
            var line = new MemoryStream();
            long whole = 0, number = 0;
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                var rest = buffer.AsSpan(0, read);
                int end;
                while ((end = rest.IndexOf((byte)'\n')) >= 0)
                {
                    line.Write(rest[..end]);
                    number++;
                    string text;
                    try
                    {
                        text = utf8.GetString(line.GetBuffer(), 0, (int)line.Length);
                    }
                    catch (DecoderFallbackException ex)
                    {
                        throw new InvalidDataException($"'{_path}' line {number} is not UTF-8 text.", ex);
                    }

                    apply(text, number);
                    whole += line.Length + 1;
                    line.SetLength(0);
                    rest = rest[(end + 1)..];
                }

                line.Write(rest);
                if (line.Length > LongestLine)
                    throw new InvalidDataException($"'{_path}' line {number + 1} is longer than {LongestLine / (1 << 20)} MB; the file is damaged.");
            }

            // What follows the last newline is a write that never returned.
            if (stream.Length != whole)
                stream.SetLength(whole);
            stream.Seek(0, SeekOrigin.End);
            Lines = number;
            _stream = stream;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Appends one line and flushes it to disk; on failure the file is cut back to what it was.</summary>
    internal void Append(string line)
    {
        var stream = _stream ?? throw new InvalidOperationException($"'{_path}' is not open; its last compaction could not reopen it. Open the store again.");
        byte[] bytes = Encoding.UTF8.GetBytes(line + "\n");
        long before = stream.Length;
        try
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        catch (IOException)
        {
            // Leave no partial line behind a failed write (a full disk, say). The stream is unbuffered, so nothing of
            // it waits in memory to be written later.
            stream.SetLength(before);
            stream.Seek(0, SeekOrigin.End);
            throw;
        }

        Lines++;
    }

    /// <summary>Replaces the file with these lines, atomically, and appends after them from then on.</summary>
    /// <exception cref="IOException">The new file could not be written; the old one is kept and stays open.</exception>
    internal void Rewrite(IEnumerable<string> lines)
    {
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
        _stream?.Dispose();
        _stream = null;
        _stream = Lock();
        _stream.Seek(0, SeekOrigin.End);
        Lines = count;
    }

    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null;
    }

    private FileStream Lock()
    {
        try
        {
            // Unbuffered: a write that fails leaves nothing behind to be flushed with the next one.
            return new FileStream(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException(
                $"'{_path}' could not be opened for this store ({ex.Message}); a collection's folder is served by one FolderVectorStore at a time, in this process or another.", ex);
        }
    }
}
