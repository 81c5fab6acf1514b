using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.Win32.SafeHandles;
using MetricLearning.Data;
using static TorchSharp.torch;

namespace MetricLearning.Mnist.Idx;

/// <summary>
/// An <see cref="ILabelledSource"/> over an IDX image file and its labels file that reads each batch's images from
/// disk when the batch is read (positional reads, from several threads at once): any IDX set trains without being
/// held in memory.
/// </summary>
/// <remarks>
/// The images file must be uncompressed, since a gzip stream cannot be read at a position: <c>gunzip</c> it first,
/// or load a compressed set into memory with <see cref="IdxReader"/>. The labels (one byte each) are read into memory
/// when the source is opened, and the images file's length is checked against its header then. Raw inputs are the
/// bytes; the default preprocessing scales them to [0, 1]. Thread-safe; dispose it to close the file.
/// </remarks>
public sealed class IdxSource : ILabelledSource, IDisposable
{
    private readonly SafeFileHandle _images;
    private readonly int[] _labels;
    private readonly long _headerBytes;
    private readonly int _recordSize;

    private IdxSource(string imagesPath, SafeFileHandle images, long headerBytes, int recordSize, int[] labels, long[] inputShape, IInputPreprocessing preprocessing)
    {
        ImagesPath = imagesPath;
        _images = images;
        _headerBytes = headerBytes;
        _recordSize = recordSize;
        _labels = labels;
        InputShape = inputShape;
        Preprocessing = preprocessing;
    }

    /// <summary>The images file.</summary>
    public string ImagesPath { get; }

    /// <inheritdoc />
    public int Count => _labels.Length;

    /// <inheritdoc />
    public IReadOnlyList<int> Labels => _labels;

    /// <inheritdoc />
    public IReadOnlyList<long> InputShape { get; }

    /// <inheritdoc />
    public IInputPreprocessing Preprocessing { get; }

    /// <summary>Opens an uncompressed IDX images file (rank 3: count, rows, columns) and its labels file (plain or gzip).</summary>
    /// <param name="imagesPath">The images file, uncompressed.</param>
    /// <param name="labelsPath">The labels file.</param>
    /// <param name="asImages">Inputs shaped <c>[1, rows, columns]</c> for convolutional networks (true, the default), or flat <c>[rows · columns]</c> for an MLP.</param>
    /// <param name="preprocessing">What turns the bytes into network inputs; null for a scale of 1/255.</param>
    /// <returns>The source.</returns>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="IdxFormatException">A file is malformed, the images file is compressed or of the wrong length, or the counts differ.</exception>
    public static IdxSource Open(string imagesPath, string labelsPath, bool asImages = true, IInputPreprocessing? preprocessing = null)
    {
        // Read in chunks, so that a header promising more labels than the file holds costs no more memory than the
        // file (the reader stops at the early end, naming the file).
        var labels = new List<int>();
        using (var labelReader = IdxRecordReader.Open(labelsPath, expectedRank: 1))
        {
            var chunk = new byte[1 << 16];
            int read;
            while ((read = labelReader.Read(chunk)) > 0)
            {
                for (int i = 0; i < read; i++)
                    labels.Add(chunk[i]);
            }
        }

        int rows, columns, count;
        using (var imageReader = IdxRecordReader.Open(imagesPath, expectedRank: 3))
        {
            count = imageReader.Count;
            rows = imageReader.RecordShape[0];
            columns = imageReader.RecordShape[1];
        }

        if (count != labels.Count)
            throw new IdxFormatException(imagesPath, $"it holds {count} images but '{labelsPath}' holds {labels.Count} labels");
        var handle = File.OpenHandle(imagesPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            Span<byte> start = stackalloc byte[2];
            RandomAccess.Read(handle, start, 0);
            if (start[0] == 0x1f && start[1] == 0x8b)
                throw new IdxFormatException(imagesPath, "it is gzip-compressed, and a streamed source reads images at their positions: gunzip it first, or load it into memory with IdxReader");
            long header = 4 + 4 * 3;
            int recordSize = checked(rows * columns);
            long expected = header + (long)count * recordSize;
            long actual = RandomAccess.GetLength(handle);
            if (actual != expected)
                throw new IdxFormatException(imagesPath, $"its header promises {count} images of {rows}x{columns} ({expected} bytes in all) but the file has {actual} bytes");
            long[] shape = asImages ? new long[] { 1, rows, columns } : new long[] { recordSize };
            return new IdxSource(imagesPath, handle, header, recordSize, labels.ToArray(), shape, preprocessing ?? new InputScaling(1f / 255f));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public Tensor Read(IReadOnlyList<int> positions)
    {
        ArgumentNullException.ThrowIfNull(positions);
        var pixels = new byte[(long)positions.Count * _recordSize];
        for (int i = 0; i < positions.Count; i++)
        {
            int position = positions[i];
            if ((uint)position >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(positions), position, $"Position {position} is outside the {Count} images.");
            var record = pixels.AsSpan(i * _recordSize, _recordSize);
            long offset = _headerBytes + (long)position * _recordSize;
            // A positional read may return less than asked (network and FUSE file systems): read until the record is full.
            for (int filled = 0; filled < _recordSize;)
            {
                int read = RandomAccess.Read(_images, record[filled..], offset + filled);
                if (read == 0)
                    throw new InvalidDataException($"'{ImagesPath}' ended before image {position}; was it changed while open?");
                filled += read;
            }
        }

        var shape = new long[InputShape.Count + 1];
        shape[0] = positions.Count;
        for (int d = 0; d < InputShape.Count; d++)
            shape[d + 1] = InputShape[d];
        return tensor(pixels, shape).DetachFromDisposeScope();
    }

    /// <inheritdoc />
    public void Dispose() => _images.Dispose();
}
