using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Linq;

namespace MetricLearning.Tests.Mnist;

/// <summary>Builds IDX content byte by byte, so that tests control every field.</summary>
internal static class IdxFiles
{
    internal static byte[] Build(byte type, int[] dimensions, byte[] data)
    {
        var bytes = new byte[4 + 4 * dimensions.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dimensions.Length;
        for (int d = 0; d < dimensions.Length; d++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dimensions[d]);
        data.CopyTo(bytes, 4 + 4 * dimensions.Length);
        return bytes;
    }

    internal static byte[] Images(int count, int side = 28, byte fill = 7) =>
        Build(0x08, new[] { count, side, side }, Enumerable.Repeat(fill, count * side * side).ToArray());

    internal static byte[] Labels(params byte[] labels) => Build(0x08, new[] { labels.Length }, labels);

    internal static byte[] Gzip(byte[] content)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(content);
        return output.ToArray();
    }
}
