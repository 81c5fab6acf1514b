using System;
using MetricLearning.Mnist.Idx;

namespace SearchService;

/// <summary>The indexed images, held in memory (one byte per pixel) to show the neighbours as pictures.</summary>
public sealed class IndexedImages
{
    private readonly byte[] _pixels;

    private IndexedImages(byte[] pixels, int count, int height, int width)
    {
        _pixels = pixels;
        Count = count;
        Height = height;
        Width = width;
    }

    /// <summary>How many images.</summary>
    public int Count { get; }

    /// <summary>Rows of each image.</summary>
    public int Height { get; }

    /// <summary>Columns of each image.</summary>
    public int Width { get; }

    /// <summary>Reads an IDX images file.</summary>
    public static IndexedImages Load(string path)
    {
        using var reader = IdxRecordReader.Open(path, expectedRank: 3);
        var pixels = new byte[(long)reader.Count * reader.RecordSize];
        reader.Read(pixels);
        return new IndexedImages(pixels, reader.Count, reader.RecordShape[0], reader.RecordShape[1]);
    }

    /// <summary>The pixels of image <paramref name="key"/>.</summary>
    public ReadOnlySpan<byte> Pixels(long key) => _pixels.AsSpan(checked((int)(key * Width * Height)), Width * Height);
}
