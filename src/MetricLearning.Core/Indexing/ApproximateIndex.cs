using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using Cloud.Unum.USearch;

namespace MetricLearning.Indexing;

/// <summary>
/// Approximate nearest-neighbour search over millions of vectors: an HNSW graph (Cloud.Unum.USearch, Apache-2.0),
/// with a label and a key of yours stored with each vector. Add, remove, search top-k, save and load atomically.
/// </summary>
/// <remarks>
/// <para>
/// HNSW answers a query by walking a graph instead of comparing it with every vector: far faster than
/// <see cref="EmbeddingIndex"/>'s exact search on large sets, at the cost of sometimes missing a true neighbour
/// (measure recall on your data; <see cref="ApproximateIndexOptions.SearchBreadth"/> trades speed for recall).
/// </para>
/// <para>
/// The file holds a header (format, metric, dimensions), the keys and labels, USearch's own index, and a SHA-256 of
/// it all; it is written to a temporary file and renamed, and a file of another metric or dimension, or a damaged one,
/// is refused naming it. Safe to use from many threads (calls are serialised). Dispose it to free the graph.
/// </para>
/// </remarks>
public sealed class ApproximateIndex : IDisposable
{
    private const string Magic = "MLANN1\n";
    private readonly object _gate = new();
    private readonly Dictionary<ulong, int> _labels = new();
    private USearchIndex _index;
    private bool _disposed;

    /// <summary>Creates an empty index.</summary>
    /// <param name="dimensions">Width of every vector; at least 1.</param>
    /// <param name="metric">How vectors are compared.</param>
    /// <param name="options">Graph settings; null for the defaults.</param>
    public ApproximateIndex(int dimensions, IndexMetric metric, ApproximateIndexOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        if (!Enum.IsDefined(metric))
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown index metric.");
        Options = (options ?? new ApproximateIndexOptions()).Clone();
        Options.Validate();
        Dimensions = dimensions;
        Metric = metric;
        _index = Create(dimensions, metric, Options);
    }

    /// <summary>Width of every vector.</summary>
    public int Dimensions { get; }

    /// <summary>How vectors are compared.</summary>
    public IndexMetric Metric { get; }

    /// <summary>The graph settings (a validated copy).</summary>
    public ApproximateIndexOptions Options { get; }

    /// <summary>How many vectors the index holds.</summary>
    public long Count
    {
        get { lock (_gate) return _labels.Count; }
    }

    /// <summary>Adds vectors with their keys and labels.</summary>
    /// <param name="keys">A key of yours per vector, unique in the index.</param>
    /// <param name="vectors">The vectors, each of <see cref="Dimensions"/> finite values.</param>
    /// <param name="labels">A label per vector.</param>
    /// <exception cref="ArgumentException">The counts differ, a key is already in the index or repeated, or a vector has the wrong width or a value that is not finite.</exception>
    public void Add(IReadOnlyList<ulong> keys, IReadOnlyList<float[]> vectors, IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(labels);
        if (keys.Count != vectors.Count || keys.Count != labels.Count)
            throw new ArgumentException($"There are {keys.Count} keys, {vectors.Count} vectors and {labels.Count} labels; they must be as many.", nameof(labels));
        for (int i = 0; i < vectors.Count; i++)
            CheckVector(vectors[i], $"{nameof(vectors)}[{i}]");
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var seen = new HashSet<ulong>();
            foreach (ulong key in keys)
            {
                if (_labels.ContainsKey(key) || !seen.Add(key))
                    throw new ArgumentException($"Key {key} is already in the index or given twice; keys must be unique.", nameof(keys));
            }

            _index.Add(keys.ToArray(), vectors.ToArray());
            for (int i = 0; i < keys.Count; i++)
                _labels[keys[i]] = labels[i];
        }
    }

    /// <summary>Removes a vector.</summary>
    /// <param name="key">Its key.</param>
    /// <returns>Whether the key was in the index.</returns>
    public bool Remove(ulong key)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_labels.Remove(key))
                return false;
            _index.Remove(key);
            return true;
        }
    }

    /// <summary>The <paramref name="k"/> vectors nearest to a query, nearest first (fewer if the index holds fewer).</summary>
    /// <param name="query">A vector of <see cref="Dimensions"/> finite values.</param>
    /// <param name="k">How many; at least 1.</param>
    /// <returns>The matches, nearest first.</returns>
    /// <exception cref="ArgumentException">The query has the wrong width or a value that is not finite.</exception>
    public IReadOnlyList<ApproximateMatch> Search(float[] query, int k)
    {
        CheckVector(query, nameof(query));
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_labels.Count == 0)
                return Array.Empty<ApproximateMatch>();
            int found = _index.Search(query, Math.Min(k, _labels.Count), out ulong[] keys, out float[] distances);
            var matches = new ApproximateMatch[found];
            for (int i = 0; i < found; i++)
                matches[i] = new ApproximateMatch(keys[i], _labels[keys[i]], Score(distances[i]));
            return matches;
        }
    }

    /// <summary>Writes the index to a file, atomically (a temporary file beside it, then a rename).</summary>
    /// <param name="path">The file; its folder is created if missing.</param>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            AtomicFile.Write(path, temporary =>
            {
                string graph = temporary + ".usearch";
                try
                {
                    _index.Save(graph);
                    using var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write);
                    using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    using (var body = new MemoryStream())
                    {
                        using (var writer = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
                        {
                            writer.Write(Encoding.ASCII.GetBytes(Magic));
                            writer.Write((int)Metric);
                            writer.Write(Dimensions);
                            writer.Write(Options.Connectivity);
                            writer.Write(Options.BuildBreadth);
                            writer.Write(Options.SearchBreadth);
                            writer.Write(_labels.Count);
                            foreach (var (key, label) in _labels)
                            {
                                writer.Write(key);
                                writer.Write(label);
                            }

                            byte[] graphBytes = File.ReadAllBytes(graph);
                            writer.Write((long)graphBytes.Length);
                            writer.Write(graphBytes);
                        }

                        body.Position = 0;
                        hash.AppendData(body.GetBuffer(), 0, (int)body.Length);
                        body.CopyTo(stream);
                    }

                    stream.Write(hash.GetHashAndReset());
                    stream.Flush(flushToDisk: true);
                }
                finally
                {
                    if (File.Exists(graph))
                        File.Delete(graph);
                }
            });
        }
    }

    /// <summary>Loads an index saved with <see cref="Save"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="metric">The metric the caller expects; a file of another is refused.</param>
    /// <param name="dimensions">The width the caller expects; a file of another is refused.</param>
    /// <returns>The index.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not such an index, is damaged, or is of another metric or width; the message names it.</exception>
    public static ApproximateIndex Load(string path, IndexMetric metric, int dimensions)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"No approximate index at '{path}'.", path);
        byte[] bytes = File.ReadAllBytes(path);
        InvalidDataException Damaged(string what) => new($"'{path}' is not an approximate index of this version or is damaged: {what}.");
        if (bytes.Length < Magic.Length + 32 || Encoding.ASCII.GetString(bytes, 0, Magic.Length) != Magic)
            throw Damaged("bad header");
        int body = bytes.Length - 32;
        if (!SHA256.HashData(bytes.AsSpan(0, body)).AsSpan().SequenceEqual(bytes.AsSpan(body)))
            throw Damaged("its SHA-256 does not match its contents (truncated or altered)");
        using var reader = new BinaryReader(new MemoryStream(bytes, Magic.Length, body - Magic.Length, writable: false));
        try
        {
            var savedMetric = (IndexMetric)reader.ReadInt32();
            int savedDimensions = reader.ReadInt32();
            if (savedMetric != metric || savedDimensions != dimensions)
                throw new InvalidDataException($"'{path}' holds {savedDimensions}-dimensional vectors compared by {savedMetric}; {dimensions} dimensions compared by {metric} were expected.");
            var options = new ApproximateIndexOptions { Connectivity = reader.ReadInt32(), BuildBreadth = reader.ReadInt32(), SearchBreadth = reader.ReadInt32() };
            try
            {
                options.Validate();
            }
            catch (ArgumentOutOfRangeException ex)
            {
                throw Damaged(ex.Message);
            }

            int count = reader.ReadInt32();
            if (count < 0 || count > (body - Magic.Length) / 12)
                throw Damaged($"it claims {count} vectors");
            var index = new ApproximateIndex(dimensions, metric, options);
            try
            {
                for (int i = 0; i < count; i++)
                    index._labels[reader.ReadUInt64()] = reader.ReadInt32();
                long length = reader.ReadInt64();
                if (length < 0 || length != reader.BaseStream.Length - reader.BaseStream.Position)
                    throw Damaged($"its graph claims {length} bytes");
                string graph = Path.Combine(Path.GetTempPath(), "metriclearning-ann-" + Guid.NewGuid().ToString("N"));
                try
                {
                    File.WriteAllBytes(graph, reader.ReadBytes((int)length));
                    index._index.Dispose();
                    index._index = new USearchIndex(graph, false);
                }
                catch (USearchException ex)
                {
                    throw Damaged($"USearch refused its graph: {ex.Message}");
                }
                finally
                {
                    File.Delete(graph);
                }

                if ((long)index._index.Size() != count || (long)index._index.Dimensions() != dimensions)
                    throw Damaged($"its graph holds {index._index.Size()} vectors of {index._index.Dimensions()} dimensions, its header {count} of {dimensions}");
                return index;
            }
            catch
            {
                index.Dispose();
                throw;
            }
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException($"'{path}' is truncated.", ex);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            _index.Dispose();
        }
    }

    private static USearchIndex Create(int dimensions, IndexMetric metric, ApproximateIndexOptions options) => new(
        metric switch { IndexMetric.Cosine => MetricKind.Cos, IndexMetric.DotProduct => MetricKind.Ip, _ => MetricKind.L2sq },
        ScalarKind.Float32, (ulong)dimensions, (ulong)options.Connectivity, (ulong)options.BuildBreadth, (ulong)options.SearchBreadth, false);

    /// <summary>USearch's distance as this index's score: cosine and dot-product "distances" are 1 − similarity, Euclidean ones are squared.</summary>
    private float Score(float distance) => Metric switch
    {
        IndexMetric.Euclidean => MathF.Sqrt(Math.Max(0, distance)),
        _ => 1 - distance,
    };

    private void CheckVector(float[] vector, string name)
    {
        ArgumentNullException.ThrowIfNull(vector, name);
        if (vector.Length != Dimensions)
            throw new ArgumentException($"'{name}' has {vector.Length} values; this index holds {Dimensions}-dimensional vectors.", name);
        for (int i = 0; i < vector.Length; i++)
        {
            if (!float.IsFinite(vector[i]))
                throw new ArgumentException($"'{name}' holds {vector[i]} at position {i}; values must be finite.", name);
        }
    }
}
