using System;
using System.IO;
using System.Text;

namespace MetricLearning.Indexing;

/// <summary>The names an exact index file holds (its distance and setting names), shared by the tensor and the managed exact index.</summary>
internal static class IndexFileNames
{
    /// <summary>The longest distance or setting name an index file holds, in UTF-8 bytes.</summary>
    internal const int Longest = 1024;

    /// <summary>
    /// A name written by <see cref="BinaryWriter.Write(string)"/>, at most <see cref="Longest"/> bytes and inside the
    /// file, read so that a damaged length prefix or invalid UTF-8 is an <see cref="InvalidDataException"/> naming the
    /// file (<see cref="BinaryReader.ReadString"/> would throw other exception types).
    /// </summary>
    internal static string Read(BinaryReader reader, string path)
    {
        int length;
        try
        {
            length = reader.Read7BitEncodedInt();
        }
        catch (FormatException ex)
        {
            throw new InvalidDataException($"'{path}' has a malformed name length.", ex);
        }

        if (length < 0 || length > Longest || length > reader.BaseStream.Length - reader.BaseStream.Position)
            throw new InvalidDataException($"'{path}' declares a name of {length} bytes; names are at most {Longest} bytes and must fit in the file.");
        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(reader.ReadBytes(length));
        }
        catch (DecoderFallbackException ex)
        {
            throw new InvalidDataException($"'{path}' holds a name that is not UTF-8.", ex);
        }
    }
}
