using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Text;

namespace BatchEmbed;

/// <summary>
/// Writes NumPy's <c>.npy</c> format (version 1.0): a magic string, a little header naming the element type and the
/// shape, then the values in row-major order. NumPy, pandas, PyArrow and most vector-database loaders read it.
/// </summary>
public static class NpyFile
{
    /// <summary>Writes the header of an array of <paramref name="shape"/> whose elements are <paramref name="descriptor"/> (<c>&lt;f4</c>, <c>&lt;i8</c>, <c>&lt;i4</c>); the values follow.</summary>
    public static void WriteHeader(Stream stream, string descriptor, params long[] shape)
    {
        string dimensions = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape.Select(size => size.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        string dictionary = $"{{'descr': '{descriptor}', 'fortran_order': False, 'shape': ({dimensions}), }}";
        // Magic (6) + version (2) + header length (2) + dictionary + padding + newline, a multiple of 64 bytes.
        int unpadded = 10 + dictionary.Length + 1;
        string header = dictionary + new string(' ', (64 - unpadded % 64) % 64) + "\n";
        stream.WriteByte(0x93); // the magic string is the byte 0x93, then "NUMPY"
        stream.Write("NUMPY"u8);
        stream.Write(new byte[] { 1, 0 });
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
        stream.Write(length);
        stream.Write(Encoding.ASCII.GetBytes(header));
    }
}
