using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using MetricLearning.Distances;
using MetricLearning.Models;
using static TorchSharp.torch;

namespace MetricLearning.Indexing;

/// <summary>
/// An exact nearest-neighbour index of labelled embeddings: add embeddings, query the top k by an
/// <see cref="IDistance"/> (smallest distances, or largest similarities), save and load.
/// </summary>
/// <remarks>
/// Queries are answered in chunks whose distance block stays under a memory budget, so the index can be far larger
/// than a query batch times the index. The index owns its tensor; dispose it. Thread-safe: searches, additions and
/// saves may come from many threads at once (they run one at a time).
/// File format (little-endian): the ASCII magic <c>MLINDEX2</c>; the distance as a name (the library's distances) or
/// its format's name (or, for a distance of the user's own without a format, its full type name; either rebuilt on load by a format or factory registered in <see cref="ModelComponents"/>) and its numeric settings (an int32 count, then name and float64 value each); the
/// embedding width (int64), the count (int32), the labels (int32), the embeddings (float32, row-major). Files are
/// written atomically.
/// </remarks>
public sealed class EmbeddingIndex : INeighbourIndex
{
    private const string Magic = "MLINDEX2";
    private readonly List<int> _labels = new();
    private readonly object _gate = new();
    private bool _disposed;
    private Tensor? _embeddings;

    /// <summary>Creates an empty index.</summary>
    /// <param name="distance">How queries are compared with the indexed embeddings.</param>
    public EmbeddingIndex(IDistance distance)
    {
        ArgumentNullException.ThrowIfNull(distance);
        Distance = distance;
    }

    /// <summary>How queries are compared with the indexed embeddings.</summary>
    public IDistance Distance { get; }

    /// <inheritdoc />
    public bool ScoresAreSimilarities => Distance.IsSimilarity;

    /// <summary>Number of indexed embeddings.</summary>
    public int Count
    {
        get { lock (_gate) return _labels.Count; }
    }

    /// <summary>Width of the indexed embeddings (0 while the index is empty).</summary>
    public long Dimension
    {
        get { lock (_gate) return _embeddings?.shape[1] ?? 0; }
    }

    /// <summary>The label of each indexed embedding, in index order (a copy).</summary>
    public IReadOnlyList<int> Labels
    {
        get { lock (_gate) return _labels.ToArray(); }
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<int, int> CountLabels()
    {
        lock (_gate)
            return _labels.GroupBy(label => label).ToDictionary(group => group.Key, group => group.Count());
    }

    /// <summary>Adds embeddings given as plain arrays (copied), with their labels, on the CPU or the index's device.</summary>
    /// <param name="embeddings">One array per embedding, all of the index's width; finite values.</param>
    /// <param name="labels">One label per embedding.</param>
    /// <exception cref="ArgumentException">There are no embeddings, the widths differ, or a value is not finite.</exception>
    public void Add(IReadOnlyList<float[]> embeddings, IReadOnlyList<int> labels)
    {
        using var inputs = Data.InputSet.FromRows(embeddings);
        lock (_gate)
        {
            using var placed = _embeddings is null ? inputs.Data.alias() : inputs.Data.to(_embeddings.device);
            Add(placed, labels);
        }
    }

    /// <summary>The k nearest indexed embeddings of one query given as plain values, nearest first.</summary>
    /// <param name="query">The query embedding, of the index's width.</param>
    /// <param name="k">How many neighbours; between 1 and <see cref="Count"/>.</param>
    /// <returns>Each neighbour's position in the index, its distance (or similarity) to the query and its label.</returns>
    /// <exception cref="InvalidOperationException">The index is empty.</exception>
    /// <exception cref="ArgumentException">The query does not have the index's width or holds a value that is not finite, or k is out of range.</exception>
    public IReadOnlyList<Neighbour> Search(ReadOnlySpan<float> query, int k)
    {
        for (int i = 0; i < query.Length; i++)
        {
            if (!float.IsFinite(query[i]))
                throw new ArgumentException($"The query holds {query[i]} at position {i}; it must be finite.", nameof(query));
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_embeddings is null)
                throw new InvalidOperationException("The index is empty; add embeddings before searching it.");
            if (query.Length != _embeddings.shape[1])
                throw new ArgumentException($"The query has {query.Length} values; the index holds {_embeddings.shape[1]}-d embeddings.", nameof(query));
            using var host = tensor(query.ToArray(), new long[] { 1, query.Length });
            using var queries = host.to(_embeddings.device);
            var matches = Search(queries, k);
            return Enumerable.Range(0, k).Select(j => new Neighbour(matches.Indices[0][j], matches.Scores[0][j], matches.Labels[0][j])).ToArray();
        }
    }

    /// <summary>The k nearest indexed embeddings of each of many queries given as plain values, nearest first.</summary>
    /// <param name="queries">The queries, each of the index's width; finite values.</param>
    /// <param name="k">How many neighbours per query; between 1 and <see cref="Count"/>.</param>
    /// <returns>For each query in order, its k neighbours: position in the index, distance (or similarity), label.</returns>
    /// <exception cref="InvalidOperationException">The index is empty.</exception>
    /// <exception cref="ArgumentException">A query does not have the index's width or holds a value that is not finite, or k is out of range.</exception>
    public IReadOnlyList<IReadOnlyList<Neighbour>> Search(IReadOnlyList<float[]> queries, int k)
    {
        ArgumentNullException.ThrowIfNull(queries);
        if (queries.Count == 0)
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_embeddings is null)
                    throw new InvalidOperationException("The index is empty; add embeddings before searching it.");
                if (k < 1 || k > _labels.Count)
                    throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be between 1 and the {_labels.Count} indexed embeddings.");
                return Array.Empty<IReadOnlyList<Neighbour>>();
            }
        }

        using var inputs = Data.InputSet.FromRows(queries);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_embeddings is null)
                throw new InvalidOperationException("The index is empty; add embeddings before searching it.");
            using var placed = inputs.Data.to(_embeddings.device);
            var matches = SearchLocked(placed, k, 64L * 1024 * 1024);
            return Enumerable.Range(0, matches.Indices.Count)
                .Select(q => (IReadOnlyList<Neighbour>)Enumerable.Range(0, k).Select(j => new Neighbour(matches.Indices[q][j], matches.Scores[q][j], matches.Labels[q][j])).ToArray())
                .ToArray();
        }
    }

    /// <summary>Adds embeddings (copied) with their labels.</summary>
    /// <param name="embeddings">Shape <c>[N, D]</c>, floating point; D must match what the index holds.</param>
    /// <param name="labels">One label per row.</param>
    /// <exception cref="ArgumentException">The shape, width, device or label count is wrong.</exception>
    public void Add(Tensor embeddings, IReadOnlyList<int> labels)
    {
        lock (_gate)
            AddLocked(embeddings, labels);
    }

    private void AddLocked(Tensor embeddings, IReadOnlyList<int> labels)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        TensorChecks.Rank(embeddings, 2, nameof(embeddings));
        TensorChecks.FloatingPoint(embeddings, nameof(embeddings));
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count != embeddings.shape[0])
            throw new ArgumentException($"There are {labels.Count} labels for {embeddings.shape[0]} embeddings.", nameof(labels));
        if (_embeddings is not null)
        {
            TensorChecks.SameDevice(_embeddings, "index", embeddings, nameof(embeddings));
            if (embeddings.shape[1] != _embeddings.shape[1])
                throw new ArgumentException($"The index holds {_embeddings.shape[1]}-d embeddings; these are {TensorChecks.Shape(embeddings)}.", nameof(embeddings));
        }

        using var rows = embeddings.detach().to_type(ScalarType.Float32);
        var combined = _embeddings is null ? rows.clone() : cat(new[] { _embeddings, rows }, 0);
        _embeddings?.Dispose();
        _embeddings = combined.DetachFromDisposeScope();
        _labels.AddRange(labels);
    }

    /// <summary>The k nearest indexed embeddings of each query, nearest first.</summary>
    /// <param name="queries">Shape <c>[Q, D]</c> on the index's device.</param>
    /// <param name="k">How many neighbours; between 1 and <see cref="Count"/>.</param>
    /// <param name="chunkBytes">Largest distance block to hold at once.</param>
    /// <exception cref="InvalidOperationException">The index is empty.</exception>
    /// <exception cref="ArgumentException">The queries do not fit the index, or k is out of range.</exception>
    public IndexMatches Search(Tensor queries, int k, long chunkBytes = 64L * 1024 * 1024)
    {
        lock (_gate)
            return SearchLocked(queries, k, chunkBytes);
    }

    private IndexMatches SearchLocked(Tensor queries, int k, long chunkBytes)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_embeddings is null)
            throw new InvalidOperationException("The index is empty; add embeddings before searching it.");
        TensorChecks.EmbeddingBatches(queries, nameof(queries), _embeddings, "index", rowWise: false);
        if (k < 1 || k > _labels.Count)
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be between 1 and the {_labels.Count} indexed embeddings.");
        var indices = new List<long[]>();
        var scores = new List<float[]>();
        var labels = new List<int[]>();
        NearestNeighbours.Search(Distance, queries, _embeddings, k, chunkBytes, (_, length, values, positions) =>
        {
            var hostValues = values.to_type(ScalarType.Float32).cpu().data<float>().ToArray();
            var hostPositions = positions.cpu().data<long>().ToArray();
            for (int q = 0; q < length; q++)
            {
                var row = hostPositions.AsSpan(q * k, k).ToArray();
                indices.Add(row);
                scores.Add(hostValues.AsSpan(q * k, k).ToArray());
                labels.Add(row.Select(position => _labels[(int)position]).ToArray());
            }
        });

        return new IndexMatches(indices, scores, labels);
    }

    /// <summary>Writes the index to a file, atomically (a temporary file beside it, then a rename).</summary>
    /// <param name="path">The file; its folder is created if missing.</param>
    /// <exception cref="InvalidOperationException">The distance's type name or a setting name is longer than 1,024 bytes.</exception>
    public void Save(string path)
    {
        lock (_gate)
            SaveLocked(path);
    }

    private void SaveLocked(string path)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var (name, parameters) = DescribeDistance(Distance);
        foreach (string text in parameters.Keys.Prepend(name))
        {
            if (Encoding.UTF8.GetByteCount(text) > IndexFileNames.Longest)
                throw new InvalidOperationException($"The distance's name or setting '{text[..Math.Min(40, text.Length)]}…' is longer than the {IndexFileNames.Longest} bytes an index file holds.");
        }

        AtomicFile.Write(path, temporary =>
        {
            using var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write);
            using var writer = new BinaryWriter(stream, Encoding.UTF8);
            writer.Write(Encoding.ASCII.GetBytes(Magic));
            writer.Write(name);
            writer.Write(parameters.Count);
            foreach (var (key, value) in parameters)
            {
                writer.Write(key);
                writer.Write(value);
            }

            writer.Write(_embeddings?.shape[1] ?? 0L);
            writer.Write(_labels.Count);
            foreach (int label in _labels)
                writer.Write(label);
            if (_embeddings is not null)
            {
                using var host = _embeddings.cpu().contiguous();
                writer.Write(host.bytes);
            }

            writer.Flush();
            stream.Flush(flushToDisk: true);
        });
    }

    /// <summary>
    /// Reads an index written by <see cref="Save"/>, searching with the distance it was saved with (one of the
    /// library's distances, restored with its settings).
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="device">Where to put the embeddings; the CPU if null.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not an index or is truncated, or it was saved with a distance of the user's own (load it with <see cref="Load(string, ModelComponents, Device?)"/> or <see cref="Load(string, IDistance, Device?)"/>).</exception>
    public static EmbeddingIndex Load(string path, Device? device = null) => Read(path, null, null, device);

    /// <summary>
    /// Reads an index written by <see cref="Save"/>, building a distance of your own with the format or factory registered in
    /// <paramref name="components"/> (the library's distances need none).
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="components">Formats and factories for your own distance.</param>
    /// <param name="device">Where to put the embeddings; the CPU if null.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not an index or is truncated, or no format or factory builds its distance.</exception>
    public static EmbeddingIndex Load(string path, ModelComponents components, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(components);
        return Read(path, null, components, device);
    }

    /// <summary>Reads an index written by <see cref="Save"/>, checking that it was saved with <paramref name="distance"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="distance">The distance to search with: of the type the index was saved with and, for the library's distances, with the same settings.</param>
    /// <param name="device">Where to put the embeddings; the CPU if null.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not an index, is truncated, or was saved with another distance or other settings.</exception>
    public static EmbeddingIndex Load(string path, IDistance distance, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(distance);
        return Read(path, distance, null, device);
    }

    private static EmbeddingIndex Read(string path, IDistance? distance, ModelComponents? components, Device? device)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"No index file at '{path}'.", path);
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
            if (Encoding.ASCII.GetString(reader.ReadBytes(Magic.Length)) != Magic)
                throw new InvalidDataException($"'{path}' is not a MetricLearning embedding index of this version (bad magic; {Magic} expected).");
            string savedName = IndexFileNames.Read(reader, path);
            int parameterCount = reader.ReadInt32();
            if (parameterCount is < 0 or > 64)
                throw new InvalidDataException($"'{path}' declares {parameterCount} distance settings.");
            var savedParameters = new Dictionary<string, double>();
            for (int i = 0; i < parameterCount; i++)
                savedParameters[IndexFileNames.Read(reader, path)] = reader.ReadDouble();
            string saved = SavedJson.Text(savedName, savedParameters);
            if (distance is null)
                distance = PartCatalogue.Create<IDistance>(
                    new SavedPart(savedName, null, SavedJson.Node(savedParameters)),
                    "distance", components, new PartLoadContext(path));
            else if (Text(distance) != saved)
                throw new InvalidDataException($"'{path}' was saved for {saved}; it cannot be searched with {Text(distance)}.");

            long dimension = reader.ReadInt64();
            int count = reader.ReadInt32();
            long remaining = reader.BaseStream.Length - reader.BaseStream.Position;
            if (count < 0 || dimension < 0 || (count > 0 && dimension == 0) || (count > 0 && dimension > remaining / 4 / count))
                throw new InvalidDataException($"'{path}' declares {count} embeddings of width {dimension}, more than its {reader.BaseStream.Length} bytes hold.");
            long expected = reader.BaseStream.Position + 4L * count + 4L * count * dimension;
            if (reader.BaseStream.Length != expected)
                throw new InvalidDataException($"'{path}' should be {expected} bytes for {count} embeddings of width {dimension}, but is {reader.BaseStream.Length}.");

            var index = new EmbeddingIndex(distance);
            var labels = new int[count];
            for (int i = 0; i < count; i++)
                labels[i] = reader.ReadInt32();
            if (count > 0)
            {
                var values = new float[count * dimension];
                reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
                using var host = tensor(values, new[] { (long)count, dimension });
                using var placed = device is null ? host.alias() : host.to(device);
                index.Add(placed, labels);
            }

            return index;
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException($"'{path}' is truncated.", ex);
        }
    }

    private static string Text(IDistance distance)
    {
        var (name, parameters) = DescribeDistance(distance);
        return SavedJson.Text(name, parameters);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _embeddings?.Dispose();
            _embeddings = null;
        }
    }

    /// <summary>A distance's saved name and settings, as an index file holds them (named numbers).</summary>
    /// <exception cref="InvalidOperationException">The distance's format writes settings that are not named numbers.</exception>
    private static (string Name, Dictionary<string, double> Parameters) DescribeDistance(IDistance distance)
    {
        var saved = PartCatalogue.Describe(distance);
        try
        {
            return (saved.Type, SavedJson.Numbers(saved.Settings, saved.Type, "(the index being saved)"));
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidOperationException($"The distance {saved.Type} has settings an index file cannot hold (it holds named numbers): {ex.Message}", ex);
        }
    }
}
