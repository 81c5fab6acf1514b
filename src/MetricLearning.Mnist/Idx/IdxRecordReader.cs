using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;

namespace MetricLearning.Mnist.Idx;

/// <summary>
/// Reads an unsigned-byte IDX file (plain or gzip) record by record, front to back, holding only what the caller asks
/// for: the way to embed a set larger than memory. A record is one entry of the first dimension (one image of an
/// images file, one label of a labels file).
/// </summary>
/// <remarks>
/// The header is checked when the file is opened; a file that ends before the records its header promises, or holds
/// bytes after them, is refused with an <see cref="IdxFormatException"/> naming it when the reader gets there. Not
/// thread-safe. Dispose it to close the file.
/// </remarks>
public sealed class IdxRecordReader : IDisposable
{
    private readonly Stream _file;
    private readonly Stream _content;
    private readonly int[] _dimensions;

    private IdxRecordReader(string path, Stream file, Stream content, int[] dimensions)
    {
        Path = path;
        _file = file;
        _content = content;
        _dimensions = dimensions;
        RecordSize = dimensions.Skip(1).Aggregate(1, (product, size) => checked(product * size));
    }

    /// <summary>The file being read.</summary>
    public string Path { get; }

    /// <summary>How many records the header declares.</summary>
    public int Count => _dimensions[0];

    /// <summary>The shape of one record (for MNIST images: rows, columns; empty for labels).</summary>
    public IReadOnlyList<int> RecordShape => _dimensions[1..];

    /// <summary>Bytes per record.</summary>
    public int RecordSize { get; }

    /// <summary>How many records have been read or skipped.</summary>
    public int Position { get; private set; }

    /// <summary>Opens an IDX file and checks its header; gzip is detected from the content, not the name.</summary>
    /// <param name="path">The file.</param>
    /// <param name="expectedRank">If given, the rank the file must have (3 for images, 1 for labels).</param>
    /// <returns>A reader at the first record.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IdxFormatException">The header is malformed or of another rank.</exception>
    public static IdxRecordReader Open(string path, int? expectedRank = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"IDX file '{path}' does not exist.", path);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            Span<byte> start = stackalloc byte[2];
            int peeked = file.ReadAtLeast(start, 2, throwOnEndOfStream: false);
            file.Position = 0;
            Stream content = IdxReader.IsGzip(start[..peeked]) ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
            try
            {
                var dimensions = IdxReader.ReadHeader(content, path, expectedRank, wholeFile: false);
                return new IdxRecordReader(path, file, content, dimensions);
            }
            catch (Exception ex)
            {
                if (!ReferenceEquals(content, file))
                    content.Dispose();
                if (ex is InvalidDataException)
                    throw new IdxFormatException(path, $"it looks gzip-compressed but does not decompress: {ex.Message}");
                throw;
            }
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads the next records into <paramref name="destination"/>: as many whole records as fit, or as remain.</summary>
    /// <param name="destination">Room for one or more records (<see cref="RecordSize"/> bytes each).</param>
    /// <returns>How many records were read; 0 once all have been.</returns>
    /// <exception cref="ArgumentException">The destination is smaller than one record.</exception>
    /// <exception cref="IdxFormatException">The file ends early, or bytes follow the last record.</exception>
    public int Read(Span<byte> destination)
    {
        if (destination.Length < RecordSize)
            throw new ArgumentException($"The destination holds {destination.Length} bytes, less than one record of {RecordSize}.", nameof(destination));
        int records = Math.Min(destination.Length / RecordSize, Count - Position);
        Fill(destination[..(records * RecordSize)]);
        Position += records;
        if (records > 0 && Position == Count)
            CheckEnd();
        return records;
    }

    /// <summary>Skips records without keeping them (a gzip file is still decompressed to get past them).</summary>
    /// <param name="records">How many; no more than remain.</param>
    /// <exception cref="ArgumentOutOfRangeException">More records than remain.</exception>
    /// <exception cref="IdxFormatException">The file ends early.</exception>
    public void Skip(int records)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(records);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(records, Count - Position);
        var chunk = new byte[Math.Max(RecordSize, (int)Math.Min(1 << 20, (long)RecordSize * records))];
        int left = records;
        while (left > 0)
        {
            int now = Math.Min(left, chunk.Length / RecordSize);
            Fill(chunk.AsSpan(0, now * RecordSize));
            left -= now;
            Position += now;
        }

        if (records > 0 && Position == Count)
            CheckEnd();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!ReferenceEquals(_content, _file))
            _content.Dispose();
        _file.Dispose();
    }

    private void Fill(Span<byte> destination)
    {
        int got;
        try
        {
            got = _content.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException ex)
        {
            throw new IdxFormatException(Path, $"it does not decompress: {ex.Message}");
        }

        if (got < destination.Length)
            throw new IdxFormatException(Path, $"truncated: the header promises {Count} records of {RecordSize} bytes, but the file ends in record {Position + got / RecordSize}.");
    }

    private void CheckEnd()
    {
        Span<byte> probe = stackalloc byte[1];
        if (_content.Read(probe) > 0)
            throw new IdxFormatException(Path, $"unexpected bytes follow the {Count} records the header describes.");
    }
}
