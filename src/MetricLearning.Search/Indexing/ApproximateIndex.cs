using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Tasks;

namespace MetricLearning.Indexing;

/// <summary>
/// Approximate nearest-neighbour search over millions of vectors: an HNSW graph (USearch, from the Cloud.Unum.USearch
/// package, Apache-2.0), with a label and a key of yours stored with each vector. Add, remove, search top-k, save and
/// load atomically.
/// </summary>
/// <remarks>
/// <para>
/// HNSW answers a query by walking a graph instead of comparing it with every vector: far faster than
/// <see cref="ExactIndex"/>'s exact search on large sets, at the cost of sometimes missing a true neighbour.
/// <see cref="SearchBreadth"/> trades speed for recall and can be changed on a built index; measure recall on your
/// own data (docs/performance.md gives figures for random vectors and for MNIST embeddings).
/// </para>
/// <para>
/// Bulk additions and many-query searches run on <see cref="ApproximateIndexOptions.Threads"/> threads. The index is
/// safe to use from many threads: calls run one at a time, each using the worker threads itself. Vectors are stored as
/// float32 by default, so a score is the exact similarity or distance of the vector found;
/// <see cref="ApproximateIndexOptions.Precision"/> trades that for memory and speed.
/// </para>
/// <para>
/// The file holds a header (format, metric, dimensions, settings), the keys and labels, USearch's own graph, and a
/// SHA-256 of it all; it is written to a temporary file and renamed, and a file of another metric or dimension, or a
/// damaged one, is refused naming it. Dispose the index to free the graph's native memory.
/// </para>
/// </remarks>
public sealed class ApproximateIndex : INeighbourIndex
{
    private const string Magic = "MLANN3\n";
    private const int HashBytes = 32;
    private readonly object _gate = new();
    private readonly Dictionary<long, int> _labels = new();
    private readonly ApproximateIndexOptions _options;
    private readonly HnswGraph _graph;
    private bool _disposed;

    /// <summary>Creates an empty index.</summary>
    /// <param name="dimensions">Width of every vector; at least 1.</param>
    /// <param name="metric">How vectors are compared.</param>
    /// <param name="options">Graph settings; null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">The width, the metric or a setting is out of range.</exception>
    /// <exception cref="ArgumentException"><see cref="IndexPrecision.Int8"/> was asked for with a metric other than cosine.</exception>
    public ApproximateIndex(int dimensions, IndexMetric metric, ApproximateIndexOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        if (!Enum.IsDefined(metric))
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown index metric.");
        _options = (options ?? new ApproximateIndexOptions()).Clone();
        _options.Validate();
        if (_options.Precision == IndexPrecision.Int8 && metric != IndexMetric.Cosine)
            throw new ArgumentException($"IndexPrecision.Int8 stores directions only, so it serves IndexMetric.Cosine, not {metric}.", nameof(options));
        Dimensions = dimensions;
        Metric = metric;
        var kind = metric switch
        {
            IndexMetric.Cosine => HnswGraph.MetricKind.Cosine,
            IndexMetric.DotProduct => HnswGraph.MetricKind.InnerProduct,
            _ => HnswGraph.MetricKind.SquaredEuclidean,
        };
        var storage = _options.Precision switch
        {
            IndexPrecision.Float16 => HnswGraph.ScalarKind.Float16,
            IndexPrecision.Int8 => HnswGraph.ScalarKind.Int8,
            _ => HnswGraph.ScalarKind.Float32,
        };
        _graph = HnswGraph.Create(kind, storage, dimensions, _options.Connectivity, _options.BuildBreadth, _options.SearchBreadth);
        try
        {
            _graph.Reserve(0, Workers);
        }
        catch
        {
            _graph.Dispose();
            throw;
        }
    }

    /// <summary>Width of every vector.</summary>
    public int Dimensions { get; }

    /// <summary>How vectors are compared.</summary>
    public IndexMetric Metric { get; }

    /// <summary>The graph settings (a copy; <see cref="SearchBreadth"/> changes the search breadth of this index).</summary>
    public ApproximateIndexOptions Options
    {
        get { lock (_gate) return _options.Clone(); }
    }

    /// <summary>
    /// Candidates examined per search (HNSW's ef), 1 to 4096: more finds more of the true neighbours, more slowly.
    /// Starts at <see cref="ApproximateIndexOptions.SearchBreadth"/>; may be changed at any time. Saved with the index.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is out of range.</exception>
    public int SearchBreadth
    {
        get { lock (_gate) return _options.SearchBreadth; }
        set
        {
            if (value is < 1 or > ApproximateIndexOptions.LargestBreadth)
                throw new ArgumentOutOfRangeException(nameof(value), value, $"SearchBreadth must be between 1 and {ApproximateIndexOptions.LargestBreadth}.");
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                _graph.SetSearchBreadth(value);
                _options.SearchBreadth = value;
            }
        }
    }

    /// <inheritdoc />
    public int Count
    {
        get { lock (_gate) return _labels.Count; }
    }

    /// <inheritdoc />
    public bool ScoresAreSimilarities => Metric != IndexMetric.Euclidean;

    /// <summary>Bytes of native memory the graph and its vectors occupy (as USearch reports it).</summary>
    public long MemoryBytes
    {
        get
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                return _graph.MemoryBytes;
            }
        }
    }

    private int Workers => _options.Threads == 0 ? Environment.ProcessorCount : _options.Threads;

    /// <inheritdoc />
    public IReadOnlyDictionary<int, int> CountLabels()
    {
        lock (_gate)
            return _labels.Values.GroupBy(label => label).ToDictionary(group => group.Key, group => group.Count());
    }

    /// <summary>Adds vectors with their keys and labels, on <see cref="ApproximateIndexOptions.Threads"/> threads.</summary>
    /// <param name="keys">A key of yours per vector: not negative, unique in the index.</param>
    /// <param name="vectors">The vectors, each of <see cref="Dimensions"/> finite values (copied into the index).</param>
    /// <param name="labels">A label per vector.</param>
    /// <exception cref="ArgumentException">The counts differ, a key is negative, already in the index or repeated, or a vector has the wrong width or a value that is not finite. Nothing is added.</exception>
    /// <exception cref="InvalidOperationException">USearch refused a vector (out of memory, say); what was added of this call is taken out again.</exception>
    public void Add(IReadOnlyList<long> keys, IReadOnlyList<float[]> vectors, IReadOnlyList<int> labels)
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
            var seen = new HashSet<long>();
            foreach (long key in keys)
            {
                if (key < 0)
                    throw new ArgumentException($"Key {key} is negative; keys must be 0 or more.", nameof(keys));
                if (_labels.ContainsKey(key) || !seen.Add(key))
                    throw new ArgumentException($"Key {key} is already in the index or given twice; keys must be unique.", nameof(keys));
            }

            _graph.Reserve(keys.Count, Workers);
            var added = new bool[keys.Count];
            try
            {
                Parallel.For(0, keys.Count, new ParallelOptions { MaxDegreeOfParallelism = Workers }, i =>
                {
                    _graph.Add((ulong)keys[i], vectors[i]);
                    added[i] = true;
                });
            }
            catch (AggregateException ex)
            {
                // All or nothing: take back what went in before the failure, then report the first cause.
                for (int i = 0; i < added.Length; i++)
                {
                    if (!added[i])
                        continue;
                    try
                    {
                        _graph.Remove((ulong)keys[i]);
                    }
                    catch (InvalidOperationException)
                    {
                        // Keep going: the first failure is what the caller needs to see.
                    }
                }

                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
                throw;
            }

            for (int i = 0; i < keys.Count; i++)
                _labels[keys[i]] = labels[i];
        }
    }

    /// <summary>Removes a vector.</summary>
    /// <param name="key">Its key.</param>
    /// <returns>Whether the key was in the index.</returns>
    public bool Remove(long key)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_labels.Remove(key))
                return false;
            _graph.Remove((ulong)key);
            return true;
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<Neighbour> Search(ReadOnlySpan<float> query, int k)
    {
        float[] copy = query.ToArray();
        CheckVector(copy, nameof(query));
        lock (_gate)
        {
            CheckSearch(k);
            return SearchOne(copy, k);
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<IReadOnlyList<Neighbour>> Search(IReadOnlyList<float[]> queries, int k)
    {
        ArgumentNullException.ThrowIfNull(queries);
        for (int i = 0; i < queries.Count; i++)
            CheckVector(queries[i], $"{nameof(queries)}[{i}]");
        lock (_gate)
        {
            CheckSearch(k);
            if (queries.Count == 0)
                return Array.Empty<IReadOnlyList<Neighbour>>();
            var results = new IReadOnlyList<Neighbour>[queries.Count];
            Parallel.For(0, queries.Count, new ParallelOptions { MaxDegreeOfParallelism = Workers }, i => results[i] = SearchOne(queries[i], k));
            return results;
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
                using var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite);
                using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
                {
                    writer.Write(Encoding.ASCII.GetBytes(Magic));
                    writer.Write((int)Metric);
                    writer.Write(Dimensions);
                    writer.Write(_options.Connectivity);
                    writer.Write(_options.BuildBreadth);
                    writer.Write(_options.SearchBreadth);
                    writer.Write((int)_options.Precision);
                    writer.Write(_labels.Count);
                    foreach (var (key, label) in _labels)
                    {
                        writer.Write(key);
                        writer.Write(label);
                    }

                    writer.Flush();
                    _graph.WriteTo(stream);
                }

                byte[] hash = Hash(stream, stream.Length);
                stream.Write(hash);
                stream.Flush(flushToDisk: true);
            });
        }
    }

    /// <summary>Loads an index saved with <see cref="Save"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="metric">The metric the caller expects; a file of another is refused.</param>
    /// <param name="dimensions">The width the caller expects; a file of another is refused.</param>
    /// <param name="threads">Threads for bulk additions and many-query searches; 0 (the default) for every core.</param>
    /// <returns>The index, with the settings it was saved with.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not such an index, is damaged, or is of another metric or width; the message names it.</exception>
    public static ApproximateIndex Load(string path, IndexMetric metric, int dimensions, int threads = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (threads is < 0 or > 1024)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be between 0 (every core) and 1,024.");
        if (!File.Exists(path))
            throw new FileNotFoundException($"No approximate index at '{path}'.", path);
        InvalidDataException Damaged(string what) => new($"'{path}' is not an approximate index of this version or is damaged: {what}.");
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        long body = stream.Length - HashBytes;
        var magic = new byte[Magic.Length];
        if (body < Magic.Length || stream.Read(magic) != magic.Length || Encoding.ASCII.GetString(magic) != Magic)
            throw Damaged("bad header");
        stream.Position = 0;
        byte[] expected = Hash(stream, body);
        var saved = new byte[HashBytes];
        stream.ReadExactly(saved);
        if (!expected.AsSpan().SequenceEqual(saved))
            throw Damaged("its SHA-256 does not match its contents (truncated or altered)");

        stream.Position = Magic.Length;
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            var savedMetric = (IndexMetric)reader.ReadInt32();
            int savedDimensions = reader.ReadInt32();
            if (savedMetric != metric || savedDimensions != dimensions)
                throw new InvalidDataException($"'{path}' holds {savedDimensions}-dimensional vectors compared by {savedMetric}; {dimensions} dimensions compared by {metric} were expected.");
            var options = new ApproximateIndexOptions
            {
                Connectivity = reader.ReadInt32(), BuildBreadth = reader.ReadInt32(), SearchBreadth = reader.ReadInt32(), Precision = (IndexPrecision)reader.ReadInt32(), Threads = threads,
            };
            try
            {
                options.Validate();
                if (options.Precision == IndexPrecision.Int8 && metric != IndexMetric.Cosine)
                    throw new ArgumentOutOfRangeException(nameof(options), "Int8 precision with a metric other than cosine");
            }
            catch (ArgumentOutOfRangeException ex)
            {
                throw Damaged(ex.Message);
            }

            int count = reader.ReadInt32();
            if (count < 0 || count > (body - stream.Position) / 12)
                throw Damaged($"it claims {count} vectors");
            var index = new ApproximateIndex(dimensions, metric, options);
            try
            {
                for (int i = 0; i < count; i++)
                {
                    long key = reader.ReadInt64();
                    if (key < 0 || !index._labels.TryAdd(key, reader.ReadInt32()))
                        throw Damaged($"key {key} is negative or appears twice");
                }

                long length = reader.ReadInt64();
                if (length < 0 || length != body - stream.Position)
                    throw Damaged($"its graph claims {length} bytes");
                try
                {
                    index._graph.ReadFrom(stream, length);
                }
                catch (InvalidDataException ex)
                {
                    throw Damaged(ex.Message);
                }

                if (index._graph.Size != count || index._graph.NativeDimensions != dimensions)
                    throw Damaged($"its graph holds {index._graph.Size} vectors of {index._graph.NativeDimensions} dimensions, its header {count} of {dimensions}");
                foreach (long key in index._labels.Keys)
                {
                    if (!index._graph.Contains((ulong)key))
                        throw Damaged($"its header lists key {key}, which its graph does not hold");
                }

                index._graph.Reserve(0, index.Workers);
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
            _graph.Dispose();
        }
    }

    /// <summary>SHA-256 of the first <paramref name="length"/> bytes of a stream, read from its start.</summary>
    private static byte[] Hash(Stream stream, long length)
    {
        stream.Position = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunk = new byte[1 << 20];
        for (long done = 0; done < length;)
        {
            int read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, length - done));
            if (read == 0)
                throw new EndOfStreamException();
            hash.AppendData(chunk, 0, read);
            done += read;
        }

        return hash.GetHashAndReset();
    }

    private void CheckSearch(int k)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_labels.Count == 0)
            throw new InvalidOperationException("The index is empty; add vectors before searching it.");
        if (k < 1 || k > _labels.Count)
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be between 1 and the {_labels.Count} indexed vectors.");
    }

    private Neighbour[] SearchOne(float[] query, int k)
    {
        var keys = new ulong[k];
        var distances = new float[k];
        int found = _graph.Search(query, keys, distances);
        var matches = new Neighbour[found];
        for (int i = 0; i < found; i++)
            matches[i] = new Neighbour((long)keys[i], Score(distances[i]), _labels[(long)keys[i]]);
        return matches;
    }

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
