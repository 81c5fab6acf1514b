using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace MetricLearning.Mnist.Idx;

/// <summary>
/// Reads IDX files (LeCun's format for MNIST), plain or gzip-compressed, validating everything the header claims.
/// </summary>
/// <remarks>
/// Layout: two zero bytes, a type code (0x08 = unsigned byte, the only type MNIST uses and the only one read
/// here), the rank, one big-endian 32-bit size per dimension, then the values. Magic numbers: 0x00000803 for
/// images (rank 3), 0x00000801 for labels (rank 1). A file is refused with an <see cref="IdxFormatException"/>
/// naming it and the problem when its magic number, type, rank, dimensions or length are wrong. Thread-safe.
/// </remarks>
internal static class IdxReader
{
    private const byte UnsignedByteType = 0x08;

    /// <summary>Reads an IDX file; gzip is detected from the content, not the name.</summary>
    /// <param name="path">The file.</param>
    /// <param name="expectedRank">If given, the rank the file must have (3 for images, 1 for labels).</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IdxFormatException">The file is malformed or has another rank.</exception>
    public static IdxArray Read(string path, int? expectedRank = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"IDX file '{path}' does not exist.", path);
        using var file = File.OpenRead(path);
        return Read(file, path, expectedRank);
    }

    /// <summary>Reads IDX content from a stream (plain or gzip).</summary>
    /// <param name="stream">The content; read to its end.</param>
    /// <param name="name">Name used in error messages (usually the file's path).</param>
    /// <param name="expectedRank">If given, the rank the content must have.</param>
    /// <exception cref="IdxFormatException">The content is malformed or has another rank.</exception>
    /// <remarks>
    /// A seekable plain stream is read straight into the returned array, with no intermediate copy; other content
    /// (a non-seekable stream, gzip) is buffered or grown in chunks first.
    /// </remarks>
    public static IdxArray Read(Stream stream, string name, int? expectedRank = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek)
        {
            // Rare (network or pipe streams): buffer once so that the gzip check can look ahead.
            var buffered = new MemoryStream();
            stream.CopyTo(buffered);
            buffered.Position = 0;
            stream = buffered;
        }

        Span<byte> start = stackalloc byte[2];
        long origin = stream.Position;
        int peeked = stream.ReadAtLeast(start, 2, throwOnEndOfStream: false);
        stream.Position = origin;
        if (IsGzip(start[..peeked]))
        {
            using var gzip = new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true);
            try
            {
                return ReadPlain(gzip, name, expectedRank);
            }
            catch (InvalidDataException ex)
            {
                throw new IdxFormatException(name, $"it looks gzip-compressed but does not decompress: {ex.Message}");
            }
        }

        return ReadPlain(stream, name, expectedRank);
    }

    private static IdxArray ReadPlain(Stream stream, string name, int? expectedRank)
    {
        var dimensions = ReadHeader(stream, name, expectedRank, wholeFile: true);
        long total = 1;
        foreach (int size in dimensions)
            total *= size;

        var data = ReadValues(stream, (int)total, name, dimensions);

        long extra = 0;
        var rest = new byte[4096];
        for (int n; (n = stream.Read(rest)) > 0;)
            extra += n;
        if (extra > 0)
            throw new IdxFormatException(name, $"{extra} unexpected bytes follow the {total} values the header describes ([{string.Join(", ", dimensions)}]).");

        return new IdxArray(dimensions, data);
    }

    /// <summary>
    /// Reads and checks an IDX header (magic number, unsigned-byte type, rank, sizes) from plain content, leaving the
    /// stream at the first value.
    /// </summary>
    /// <param name="stream">Plain IDX content at its start.</param>
    /// <param name="name">The file's name, for messages.</param>
    /// <param name="expectedRank">The rank the file must have, if given.</param>
    /// <param name="wholeFile">
    /// True when all values will be read into one array (so they must fit in one); false when they are read a record
    /// at a time (so only a record must).
    /// </param>
    /// <returns>The size of each dimension, outermost first.</returns>
    /// <exception cref="IdxFormatException">The header is malformed, or the rank is not <paramref name="expectedRank"/>.</exception>
    internal static int[] ReadHeader(Stream stream, string name, int? expectedRank, bool wholeFile)
    {
        Span<byte> magic = stackalloc byte[4];
        int got = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (got < 4)
            throw new IdxFormatException(name, $"it holds {got} bytes, fewer than the 4-byte magic number.");
        uint magicNumber = BinaryPrimitives.ReadUInt32BigEndian(magic);
        if (magic[0] != 0 || magic[1] != 0)
            throw new IdxFormatException(name, $"bad magic number 0x{magicNumber:X8}: an IDX file starts with two zero bytes.");
        if (magic[2] != UnsignedByteType)
            throw new IdxFormatException(name, $"data type 0x{magic[2]:X2} is not supported; only unsigned bytes (0x08) are.");

        int rank = magic[3];
        if (rank == 0)
            throw new IdxFormatException(name, "rank 0: the magic number declares no dimensions.");
        if (expectedRank is int wanted && rank != wanted)
            throw new IdxFormatException(name, $"rank {rank} (magic 0x{magicNumber:X8}), but rank {wanted} was expected.");

        var sizes = new byte[4 * rank];
        got = stream.ReadAtLeast(sizes, sizes.Length, throwOnEndOfStream: false);
        if (got < sizes.Length)
            throw new IdxFormatException(name, $"truncated header: rank {rank} needs {4 + sizes.Length} header bytes, the file holds {4 + got}.");

        var dimensions = new int[rank];
        long total = 1;
        for (int d = 0; d < rank; d++)
        {
            uint size = BinaryPrimitives.ReadUInt32BigEndian(sizes.AsSpan(4 * d));
            if (size == 0 || size > int.MaxValue)
                throw new IdxFormatException(name, $"dimension {d} has size {size}; sizes must be between 1 and {int.MaxValue}.");
            dimensions[d] = (int)size;
            if (d > 0 || wholeFile)
                total *= size;
            if (total > Array.MaxLength)
                throw new IdxFormatException(name, wholeFile
                    ? $"the dimensions [{string.Join(", ", dimensions[..(d + 1)])}] describe more values than an array holds."
                    : $"one record of [{string.Join(", ", dimensions[1..(d + 1)])}] holds more values than an array holds.");
        }

        return dimensions;
    }

    /// <summary>
    /// Reads the <paramref name="total"/> values the header promises without trusting the promise: a stream of known
    /// length is checked before the array is made, and a compressed one is read in growing chunks, so a lying header
    /// cannot make the reader allocate more than about three times what the content really holds (the last growth
    /// copies the array once).
    /// </summary>
    private static byte[] ReadValues(Stream stream, int total, string name, int[] dimensions)
    {
        IdxFormatException Truncated(long available) => new(name,
            $"truncated: the header promises {total} values ([{string.Join(", ", dimensions)}]) but only {available} bytes follow it.");
        if (stream.CanSeek)
        {
            long remaining = stream.Length - stream.Position;
            if (remaining < total)
                throw Truncated(remaining);
            var exact = new byte[total];
            stream.ReadExactly(exact);
            return exact;
        }

        const int FirstChunk = 1 << 20;
        var data = new byte[Math.Min(total, FirstChunk)];
        int read = 0;
        while (true)
        {
            read += stream.ReadAtLeast(data.AsSpan(read), data.Length - read, throwOnEndOfStream: false);
            if (read < data.Length)
                throw Truncated(read);
            if (read == total)
                return data;
            Array.Resize(ref data, (int)Math.Min(total, 2L * data.Length));
        }
    }

    /// <summary>Whether the content starts with gzip's magic bytes.</summary>
    internal static bool IsGzip(ReadOnlySpan<byte> start) => start.Length >= 2 && start[0] == 0x1f && start[1] == 0x8b;

    /// <summary>Reads the whole stream, decompressing it if it is gzip.</summary>
    internal static byte[] ReadAll(Stream stream, string name)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        byte[] raw = buffer.ToArray();
        if (!IsGzip(raw))
            return raw;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var plain = new MemoryStream();
            gzip.CopyTo(plain);
            return plain.ToArray();
        }
        catch (InvalidDataException ex)
        {
            throw new IdxFormatException(name, $"it looks gzip-compressed but does not decompress: {ex.Message}");
        }
    }
}
