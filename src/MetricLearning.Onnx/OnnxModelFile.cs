using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using Google.Protobuf;
using MetricLearning.Distances;

namespace MetricLearning.Onnx;

/// <summary>
/// A MetricLearning ONNX file read and checked before ONNX Runtime sees it: its top-level protobuf fields (the graph's
/// bytes, the metadata properties), its checksum, and the model's description in the metadata.
/// </summary>
internal sealed class OnnxModelFile
{
    /// <summary>The largest file read: one .NET array (protobuf's own limit for one message is about the same, 2 GB).</summary>
    private static readonly long MaxBytes = Array.MaxLength;

    /// <summary>ModelProto's field numbers (onnx.proto): the IR version, the graph, the operator sets, the metadata properties.</summary>
    private const int IrVersionField = 1, GraphField = 7, OpsetField = 8, MetadataField = 14;

    private OnnxModelFile(byte[] bytes, IReadOnlyDictionary<string, string> metadata, long[] inputShape, int embeddingSize,
        double threshold, EmbeddingDistance distance, string[]? classNames)
    {
        Bytes = bytes;
        Metadata = metadata;
        InputShape = inputShape;
        EmbeddingSize = embeddingSize;
        Threshold = threshold;
        Distance = distance;
        ClassNames = classNames;
    }

    internal byte[] Bytes { get; }

    internal IReadOnlyDictionary<string, string> Metadata { get; }

    internal long[] InputShape { get; }

    internal int EmbeddingSize { get; }

    internal double Threshold { get; }

    internal EmbeddingDistance Distance { get; }

    internal string[]? ClassNames { get; }

    /// <exception cref="FileNotFoundException">There is no file at the path.</exception>
    /// <exception cref="InvalidDataException">It is not an ONNX file, not one MetricLearning exported, damaged, or its description is invalid; the message names the file.</exception>
    internal static OnnxModelFile Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"No ONNX model at '{path}'.", path);
        long length = new FileInfo(path).Length;
        if (length == 0)
            throw new InvalidDataException($"'{path}' is empty; it is not an ONNX model.");
        if (length > MaxBytes)
            throw new InvalidDataException($"'{path}' holds {length} bytes, more than one ONNX model file can ({MaxBytes}).");
        byte[] bytes = File.ReadAllBytes(path);

        ReadOnlyMemory<byte>? graph = null;
        long irVersion = 0;
        var opsets = new List<(string Domain, long Version)>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            var input = new CodedInputStream(bytes);
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                int field = WireFormat.GetTagFieldNumber(tag);
                bool delimited = WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited;
                if (field == IrVersionField && WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint)
                {
                    irVersion = input.ReadInt64();
                }
                else if (field == GraphField && delimited)
                {
                    // A second graph would be merged into the first by ONNX Runtime, unseen by the checksum.
                    if (graph is not null)
                        throw new InvalidDataException($"'{path}' holds two graphs; it is damaged.");
                    graph = input.ReadBytes().Memory;
                }
                else if (field == OpsetField && delimited)
                {
                    opsets.Add(Opset(input.ReadBytes()));
                }
                else if (field == MetadataField && delimited)
                {
                    var (key, value) = Property(input.ReadBytes());
                    if (!metadata.TryAdd(key, value))
                        throw new InvalidDataException($"'{path}' holds the property '{key}' twice; it is damaged.");
                }
                else
                {
                    input.SkipLastField();
                }
            }
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"'{path}' is not an ONNX model, or is damaged: {ex.Message}", ex);
        }

        if (!metadata.TryGetValue(OnnxMetadataKeys.Format, out string? format))
            throw new InvalidDataException(
                $"'{path}' has no '{OnnxMetadataKeys.Format}' property: it is not a model MetricLearning exported (export one with TrainedModel.ExportOnnx from MetricLearning.Onnx.Export).");
        if (format != OnnxMetadataKeys.FormatName)
            throw new InvalidDataException($"'{path}' is in the format {format}; this version reads {OnnxMetadataKeys.FormatName}.");
        if (graph is null || graph.Value.IsEmpty)
            throw new InvalidDataException($"'{path}' has no graph.");
        string expected = Required(metadata, OnnxMetadataKeys.Checksum, path);
        if (!string.Equals(OnnxMetadataKeys.ComputeChecksum(graph.Value.Span, irVersion, opsets, metadata), expected, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException(
                $"'{path}' is damaged, or was rewritten by another tool: its graph, versions or properties do not match the checksum written with them. Export the model again.");

        long[] inputShape = Json<long[]>(metadata, OnnxMetadataKeys.InputShape, path);
        if (inputShape.Length == 0 || inputShape.Any(size => size < 1) || inputShape.Aggregate(1.0, (product, size) => product * size) > 1 << 28)
            throw new InvalidDataException($"'{path}' gives the input shape [{string.Join(", ", inputShape)}]; each size must be at least 1, and at most 2^28 values in all.");
        if (!int.TryParse(Required(metadata, OnnxMetadataKeys.EmbeddingSize, path), NumberStyles.None, CultureInfo.InvariantCulture, out int embeddingSize) || embeddingSize < 1)
            throw new InvalidDataException($"'{path}' gives the embedding size '{metadata[OnnxMetadataKeys.EmbeddingSize]}'; it must be a positive integer.");
        if (!double.TryParse(Required(metadata, OnnxMetadataKeys.Threshold, path), NumberStyles.Float, CultureInfo.InvariantCulture, out double threshold) || !double.IsFinite(threshold))
            throw new InvalidDataException($"'{path}' gives the threshold '{metadata[OnnxMetadataKeys.Threshold]}'; it must be a finite number.");
        var distance = ParseDistance(Required(metadata, OnnxMetadataKeys.Distance, path), path);
        string[]? classNames = metadata.ContainsKey(OnnxMetadataKeys.ClassNames) ? Json<string[]>(metadata, OnnxMetadataKeys.ClassNames, path) : null;
        if (classNames is not null && classNames.Any(name => name is null))
            throw new InvalidDataException($"'{path}' lists a class name that is null.");
        return new OnnxModelFile(bytes, metadata, inputShape, embeddingSize, threshold, distance, classNames);
    }

    /// <summary>The managed form of the distance the file describes.</summary>
    /// <exception cref="InvalidDataException">The description is not valid, or names a distance that has no managed form.</exception>
    private static EmbeddingDistance ParseDistance(string json, string path)
    {
        try
        {
            return EmbeddingDistance.FromJson(json);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            throw new InvalidDataException($"'{path}' describes a distance this package cannot compute: {ex.Message}", ex);
        }
    }

    private static (string Domain, long Version) Opset(ByteString entry)
    {
        // OperatorSetIdProto: domain = 1, version = 2.
        var input = entry.CreateCodedInput();
        string domain = "";
        long version = 0;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited:
                    domain = input.ReadString();
                    break;
                case 2 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint:
                    version = input.ReadInt64();
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }

        return (domain, version);
    }

    private static (string Key, string Value) Property(ByteString entry)
    {
        // StringStringEntryProto: key = 1, value = 2.
        var input = entry.CreateCodedInput();
        string key = "", value = "";
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited:
                    key = input.ReadString();
                    break;
                case 2 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited:
                    value = input.ReadString();
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }

        return (key, value);
    }

    private static string Required(IReadOnlyDictionary<string, string> metadata, string key, string path) =>
        metadata.TryGetValue(key, out string? value) ? value : throw new InvalidDataException($"'{path}' has no '{key}' property.");

    private static T Json<T>(IReadOnlyDictionary<string, string> metadata, string key, string path)
        where T : class
    {
        string text = Required(metadata, key, path);
        try
        {
            return JsonSerializer.Deserialize<T>(text) ?? throw new InvalidDataException($"'{path}' has an empty '{key}' property.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"'{path}' has a '{key}' property that is not valid: {text}.", ex);
        }
    }
}
