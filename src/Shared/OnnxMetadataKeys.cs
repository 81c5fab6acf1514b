using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Text;

namespace MetricLearning.Onnx;

/// <summary>
/// The metadata properties a MetricLearning ONNX file carries beside its graph (ONNX <c>metadata_props</c>): what the
/// exporter writes and the ONNX serving package reads. Compiled into both packages, which do not reference each other.
/// </summary>
internal static class OnnxMetadataKeys
{
    /// <summary>The file format and its version; a file without it is not one of ours.</summary>
    internal const string Format = "metriclearning.format";

    /// <summary>The value of <see cref="Format"/> this version writes and reads.</summary>
    internal const string FormatName = "metriclearning-onnx/1";

    /// <summary>The MetricLearning version that exported the model.</summary>
    internal const string LibraryVersion = "metriclearning.library_version";

    /// <summary>The network's part name (<c>MlpEmbeddingNetwork</c>).</summary>
    internal const string Network = "metriclearning.network";

    /// <summary>The preprocessing inside the graph, as text, for people reading the file.</summary>
    internal const string Preprocessing = "metriclearning.preprocessing";

    /// <summary>The distance: JSON <c>{"Type": "CosineSimilarity", "Settings": {...}}</c>, as a saved model describes it.</summary>
    internal const string Distance = "metriclearning.distance";

    /// <summary>The verification threshold, invariant culture, round-trip format.</summary>
    internal const string Threshold = "metriclearning.threshold";

    /// <summary>The shape of one raw input, a JSON array of integers.</summary>
    internal const string InputShape = "metriclearning.input_shape";

    /// <summary>The embedding's width.</summary>
    internal const string EmbeddingSize = "metriclearning.embedding_size";

    /// <summary>The name of each class number, a JSON array of strings; absent when the model has none.</summary>
    internal const string ClassNames = "metriclearning.class_names";

    /// <summary>
    /// SHA-256 (hex) of the graph's serialised bytes, the IR version, the operator sets and every other
    /// <c>metriclearning.*</c> property, so that a damaged file (a flipped byte in a weight, a cut) is refused rather
    /// than served. A file re-saved by another tool (Python's onnx writes repeated numbers unpacked) has other bytes
    /// and is refused too: export it again instead.
    /// </summary>
    internal const string Checksum = "metriclearning.sha256";

    /// <summary>The checksum: the graph's bytes, then "ir_version=N", each operator set as "opset:domain=version" in file order, and each property but the checksum, by key, as key NUL value NUL.</summary>
    internal static string ComputeChecksum(ReadOnlySpan<byte> graph, long irVersion, IEnumerable<(string Domain, long Version)> opsets, IEnumerable<KeyValuePair<string, string>> properties)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(graph);
        void Text(string text)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(text));
            hash.AppendData(new byte[] { 0 });
        }

        Text(FormattableString.Invariant($"ir_version={irVersion}"));
        foreach (var (domain, version) in opsets)
            Text(FormattableString.Invariant($"opset:{domain}={version}"));
        foreach (var (key, value) in properties.Where(p => p.Key.StartsWith("metriclearning.", StringComparison.Ordinal) && p.Key != Checksum).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            Text(key);
            Text(value);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The graph's input: raw inputs <c>[batch, ...input shape]</c>, float32.</summary>
    internal const string InputName = "input";

    /// <summary>The graph's output: embeddings <c>[batch, embedding size]</c>, float32.</summary>
    internal const string OutputName = "embedding";
}
