using System;
using System.Collections.Generic;
using System.Linq;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MetricLearning.Training;

/// <summary>
/// The checkpoint file: a magic, a JSON description, named binary blobs and a SHA-256 of everything before it.
/// Written atomically and flushed to disk; read only after its length fields and hash have been checked, so a
/// truncated or altered file is refused before anything in it is used, and no length field can make the reader
/// allocate more than the file holds.
/// </summary>
/// <remarks>
/// Layout: 8-byte magic <c>MLCKPT</c>, 0x01, '\n'; int32 version; int64 description length and UTF-8 JSON; int32 blob
/// count, then per blob an int32 name length, the UTF-8 name, an int64 length and the bytes; 32 bytes of SHA-256.
/// All integers little-endian.
/// </remarks>
internal sealed class CheckpointFile
{
    internal const string Format = "metriclearning-checkpoint/1";
    private const int Version = 1;
    private const int HashLength = 32;
    private static readonly byte[] Magic = "MLCKPT\u0001\n"u8.ToArray();

    internal CheckpointFile(JsonObject description, IReadOnlyDictionary<string, byte[]> blobs)
    {
        Description = description;
        Blobs = blobs;
    }

    /// <summary>The JSON description: format, identity, position, learning rates, history.</summary>
    internal JsonObject Description { get; }

    /// <summary>Named binary state: tensors, optimizer state, generator states.</summary>
    internal IReadOnlyDictionary<string, byte[]> Blobs { get; }

    /// <summary>Writes the file atomically: a temporary file beside it, flushed to disk, then renamed over it.</summary>
    internal void Write(string path)
    {
        AtomicFile.Write(path, temporary =>
        {
            using var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using (var hashing = new HashingStream(stream, hash))
            using (var writer = new BinaryWriter(hashing, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                writer.Write(Version);
                byte[] json = JsonSerializer.SerializeToUtf8Bytes(Description);
                writer.Write((long)json.Length);
                writer.Write(json);
                writer.Write(Blobs.Count);
                foreach (var (name, bytes) in Blobs)
                {
                    byte[] nameBytes = Encoding.UTF8.GetBytes(name);
                    writer.Write(nameBytes.Length);
                    writer.Write(nameBytes);
                    writer.Write((long)bytes.Length);
                    writer.Write(bytes);
                }
            }

            stream.Write(hash.GetHashAndReset());
            stream.Flush(flushToDisk: true);
        });
    }

    /// <summary>Reads and verifies a checkpoint file.</summary>
    /// <exception cref="CheckpointException">The file is missing, unreadable, truncated, altered or of another format.</exception>
    internal static CheckpointFile Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(path, $"The checkpoint '{path}' cannot be read: {ex.Message}", ex);
        }

        CheckpointException Damaged(string what) => new(path, $"The checkpoint '{path}' is damaged or not a checkpoint: {what}.");
        if (bytes.Length < Magic.Length + sizeof(int) + HashLength || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw Damaged("it does not start with a checkpoint header");
        int body = bytes.Length - HashLength;
        if (!SHA256.HashData(bytes.AsSpan(0, body)).AsSpan().SequenceEqual(bytes.AsSpan(body)))
            throw Damaged("its SHA-256 does not match its contents (truncated or altered)");

        int position = Magic.Length;
        int ReadInt32()
        {
            if (body - position < sizeof(int))
                throw Damaged($"it ends inside a field at byte {position}");
            int value = BitConverter.ToInt32(bytes, position);
            position += sizeof(int);
            return value;
        }

        ReadOnlySpan<byte> ReadBytes(long length, string what)
        {
            if (length < 0 || length > body - position)
                throw Damaged($"{what} claims {length} bytes at byte {position}, but only {body - position} remain");
            var span = bytes.AsSpan(position, (int)length);
            position += (int)length;
            return span;
        }

        long ReadInt64()
        {
            if (body - position < sizeof(long))
                throw Damaged($"it ends inside a field at byte {position}");
            long value = BitConverter.ToInt64(bytes, position);
            position += sizeof(long);
            return value;
        }

        int version = ReadInt32();
        if (version != Version)
            throw new CheckpointException(path, $"The checkpoint '{path}' has format version {version}; this library reads version {Version}.");
        JsonObject description;
        string? format;
        try
        {
            description = JsonNode.Parse(ReadBytes(ReadInt64(), "the description")) as JsonObject
                ?? throw Damaged("its description is not a JSON object");
            format = description["format"] is JsonValue value && value.TryGetValue(out string? text) ? text : null;
            // Strings are decoded when first read: reading each one now turns invalid UTF-8 into this refusal, not a later surprise.
            foreach (var node in Descendants(description))
                _ = node?.ToJsonString();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            // InvalidOperationException: text that is not UTF-8; ArgumentException: nesting or sizes out of range.
            throw new CheckpointException(path, $"The checkpoint '{path}' has an unreadable description: {ex.Message}", ex);
        }

        if (format != Format)
            throw new CheckpointException(path, $"The checkpoint '{path}' has format '{format}'; this library reads '{Format}'.");
        int count = ReadInt32();
        if (count < 0 || count > body - position)
            throw Damaged($"it claims {count} blobs");
        var blobs = new Dictionary<string, byte[]>();
        for (int i = 0; i < count; i++)
        {
            string name = Encoding.UTF8.GetString(ReadBytes(ReadInt32(), "a blob name"));
            if (!blobs.TryAdd(name, ReadBytes(ReadInt64(), $"blob '{name}'").ToArray()))
                throw Damaged($"blob '{name}' appears twice");
        }

        if (position != body)
            throw Damaged($"{body - position} bytes follow the last blob");
        return new CheckpointFile(description, blobs);
    }

    private static IEnumerable<JsonNode?> Descendants(JsonNode? node)
    {
        yield return node;
        IEnumerable<JsonNode?> children = node switch
        {
            JsonObject obj => obj.Select(pair => pair.Value),
            JsonArray array => array,
            _ => Array.Empty<JsonNode?>(),
        };
        foreach (var child in children)
            foreach (var descendant in Descendants(child))
                yield return descendant;
    }

    /// <summary>Passes writes through to a stream and into a hash.</summary>
    private sealed class HashingStream(Stream inner, IncrementalHash hash) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.AppendData(buffer);
            inner.Write(buffer);
        }

        // The hash covers the bytes before it; the inner stream stays open for the hash itself.
        protected override void Dispose(bool disposing) => Flush();
    }
}
