using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MetricLearning.Distances;

namespace MetricLearning.Indexing;

/// <summary>
/// An exact nearest-neighbour index on plain arrays, without torch: vectors with a key and a label of yours, added,
/// replaced and removed one by one or in bulk, searched top-k (optionally among the keys a filter lets through) by an
/// <see cref="EmbeddingDistance"/>, saved and loaded.
/// </summary>
/// <remarks>
/// <para>
/// A query is compared with every vector (vectorised with <see cref="TensorPrimitives"/>, in float32), so the answer is
/// exact and its cost grows with the count: for millions of vectors use <c>ApproximateIndex</c> (package
/// MetricLearning.Search). Scores are the distance's values (similarities for a similarity), computed in float32;
/// <see cref="EmbeddingDistance.Compute"/> gives the same in float64. Ties are broken by the smaller key.
/// </para>
/// <para>
/// Thread-safe: searches run side by side; an addition, replacement or removal waits for them and runs alone.
/// </para>
/// <para>
/// Files are <c>EmbeddingIndex</c>'s (package MetricLearning) format, read by both: the magic <c>MLINDEX2</c>, the
/// distance's name and settings, the width, count, labels and rows. An index whose keys are not exactly 0 to count − 1
/// (the positions that format implies) is written as <c>MLINDEX3</c>, which adds the keys (int64) after the labels and
/// which only this class reads. Writes are atomic (a temporary file, then a rename).
/// </para>
/// </remarks>
public sealed class ExactIndex : INeighbourIndex
{
    private const string PositionsMagic = "MLINDEX2";
    private const string KeysMagic = "MLINDEX3";

    private readonly ReaderWriterLockSlim _gate = new();
    private readonly Dictionary<long, int> _slots = new();

    /// <summary>The least Euclidean distance the distance reports (the square root of its floor), worked out once.</summary>
    private readonly float _euclideanFloor;
    private float[] _rows = Array.Empty<float>();
    private float[] _norms = Array.Empty<float>();
    private long[] _keys = Array.Empty<long>();
    private int[] _labels = Array.Empty<int>();
    private int _count;
    private bool _disposed;

    /// <summary>Creates an empty index.</summary>
    /// <param name="distance">How queries are compared with the indexed vectors.</param>
    /// <param name="dimensions">Width of every vector; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">The width is less than 1.</exception>
    public ExactIndex(EmbeddingDistance distance, int dimensions)
    {
        ArgumentNullException.ThrowIfNull(distance);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        Distance = distance;
        _euclideanFloor = distance.Kind == DistanceKind.Euclidean ? (float)Math.Sqrt(distance.Parameter) : 0;
        Dimensions = dimensions;
    }

    /// <summary>How queries are compared with the indexed vectors.</summary>
    public EmbeddingDistance Distance { get; }

    /// <summary>Width of every vector.</summary>
    public int Dimensions { get; }

    /// <inheritdoc />
    public bool ScoresAreSimilarities => Distance.IsSimilarity;

    /// <inheritdoc />
    public int Count => Read(() => _count);

    /// <summary>The keys in the index, in ascending order (a copy).</summary>
    public IReadOnlyList<long> Keys => Read(() => _keys.AsSpan(0, _count).ToArray().Order().ToArray());

    /// <inheritdoc />
    public IReadOnlyDictionary<int, int> CountLabels() =>
        Read(() => _labels.Take(_count).GroupBy(label => label).ToDictionary(group => group.Key, group => group.Count()));

    /// <summary>Whether a key is in the index.</summary>
    /// <param name="key">The key.</param>
    /// <returns>True when it is.</returns>
    public bool Contains(long key) => Read(() => _slots.ContainsKey(key));

    /// <summary>The vector and label stored under a key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="vector">A copy of its vector, or null when the key is not in the index.</param>
    /// <param name="label">Its label, or 0.</param>
    /// <returns>Whether the key is in the index.</returns>
    public bool TryGet(long key, out float[]? vector, out int label)
    {
        _gate.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_slots.TryGetValue(key, out int slot))
            {
                (vector, label) = (null, 0);
                return false;
            }

            (vector, label) = (Row(slot).ToArray(), _labels[slot]);
            return true;
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    /// <summary>Adds vectors under new keys; all or nothing.</summary>
    /// <param name="keys">A key per vector, unique, none already in the index.</param>
    /// <param name="vectors">The vectors (copied), each of <see cref="Dimensions"/> finite values.</param>
    /// <param name="labels">A label per vector; null for 0 each.</param>
    /// <exception cref="ArgumentException">The counts differ, a key is repeated or already in the index, or a vector has the wrong width or a value that is not finite. Nothing is added.</exception>
    public void Add(IReadOnlyList<long> keys, IReadOnlyList<float[]> vectors, IReadOnlyList<int>? labels = null) =>
        Write(keys, vectors, labels, replace: false);

    /// <summary>Adds vectors, replacing the vector and label of any key already in the index; all or nothing.</summary>
    /// <param name="keys">A key per vector, unique in the call.</param>
    /// <param name="vectors">The vectors (copied), each of <see cref="Dimensions"/> finite values.</param>
    /// <param name="labels">A label per vector; null for 0 each.</param>
    /// <exception cref="ArgumentException">The counts differ, a key is repeated, or a vector has the wrong width or a value that is not finite. Nothing changes.</exception>
    public void Upsert(IReadOnlyList<long> keys, IReadOnlyList<float[]> vectors, IReadOnlyList<int>? labels = null) =>
        Write(keys, vectors, labels, replace: true);

    /// <summary>Removes the vector stored under a key.</summary>
    /// <param name="key">The key.</param>
    /// <returns>Whether the key was in the index.</returns>
    public bool Remove(long key)
    {
        _gate.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_slots.Remove(key, out int slot))
                return false;

            // The last vector moves into the freed slot, so the rows stay packed.
            int last = _count - 1;
            if (slot != last)
            {
                Row(last).CopyTo(_rows.AsSpan(slot * Dimensions, Dimensions));
                _norms[slot] = _norms[last];
                _keys[slot] = _keys[last];
                _labels[slot] = _labels[last];
                _slots[_keys[slot]] = slot;
            }

            _count = last;
            return true;
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<Neighbour> Search(ReadOnlySpan<float> query, int k)
    {
        float[] copy = query.ToArray();
        CheckVector(copy, nameof(query));
        _gate.EnterReadLock();
        try
        {
            CheckSearch(k);
            return SearchLocked(copy, k, null);
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<IReadOnlyList<Neighbour>> Search(IReadOnlyList<float[]> queries, int k)
    {
        ArgumentNullException.ThrowIfNull(queries);
        for (int i = 0; i < queries.Count; i++)
            CheckVector(queries[i], $"{nameof(queries)}[{i}]");
        _gate.EnterReadLock();
        try
        {
            CheckSearch(k);
            var results = new IReadOnlyList<Neighbour>[queries.Count];
            Parallel.For(0, queries.Count, i => results[i] = SearchLocked(queries[i], k, null));
            return results;
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    /// <summary>
    /// The <paramref name="k"/> nearest vectors of one query among those whose key <paramref name="filter"/> lets
    /// through, nearest first. Unlike the unfiltered search, <paramref name="k"/> may exceed what there is, and an
    /// empty index gives no neighbours.
    /// </summary>
    /// <param name="query">The query, of <see cref="Dimensions"/> finite values.</param>
    /// <param name="k">How many at most; at least 1.</param>
    /// <param name="filter">Which keys may be returned; null for all. Called once per indexed vector, under the index's read lock, from the calling thread: it must not change the index.</param>
    /// <returns>Up to <paramref name="k"/> neighbours.</returns>
    /// <exception cref="ArgumentException">The query has the wrong width or a value that is not finite, or k is less than 1.</exception>
    public IReadOnlyList<Neighbour> Search(ReadOnlySpan<float> query, int k, Func<long, bool>? filter)
    {
        float[] copy = query.ToArray();
        CheckVector(copy, nameof(query));
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        _gate.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return SearchLocked(copy, k, filter ?? (_ => true));
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    /// <summary>Writes the index to a file, atomically; see the remarks for the format.</summary>
    /// <param name="path">The file; its folder is created if missing.</param>
    /// <exception cref="InvalidOperationException">The distance's name or a setting name is longer than 1,024 bytes.</exception>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        foreach (string text in Distance.Settings.Keys.Prepend(Distance.Name))
        {
            if (Encoding.UTF8.GetByteCount(text) > IndexFileNames.Longest)
                throw new InvalidOperationException($"The distance's name or setting '{text[..Math.Min(40, text.Length)]}…' is longer than the {IndexFileNames.Longest} bytes an index file holds.");
        }

        _gate.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int[] order = Enumerable.Range(0, _count).OrderBy(slot => _keys[slot]).ToArray();
            bool positional = order.Select((slot, i) => _keys[slot] == i).All(same => same);
            AtomicFile.Write(path, temporary =>
            {
                using var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write);
                using var writer = new BinaryWriter(stream, Encoding.UTF8);
                writer.Write(Encoding.ASCII.GetBytes(positional ? PositionsMagic : KeysMagic));
                writer.Write(Distance.Name);
                writer.Write(Distance.Settings.Count);
                foreach (var (name, value) in Distance.Settings)
                {
                    writer.Write(name);
                    writer.Write(value);
                }

                writer.Write((long)Dimensions);
                writer.Write(_count);
                foreach (int slot in order)
                    writer.Write(_labels[slot]);
                if (!positional)
                {
                    foreach (int slot in order)
                        writer.Write(_keys[slot]);
                }

                foreach (int slot in order)
                    writer.Write(MemoryMarshal.AsBytes(Row(slot)));
                writer.Flush();
                stream.Flush(flushToDisk: true);
            });
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    /// <summary>
    /// Reads an index file written by this class or by <c>EmbeddingIndex</c>, searching with the distance it was saved
    /// with (one of <see cref="EmbeddingDistance.Names"/>). A <c>MLINDEX2</c> file's vectors get their positions as keys.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <returns>The index.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not an index, is damaged or truncated, or names a distance with no managed form.</exception>
    public static ExactIndex Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"No index file at '{path}'.", path);
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
            string magic = Encoding.ASCII.GetString(reader.ReadBytes(PositionsMagic.Length));
            if (magic is not (PositionsMagic or KeysMagic))
                throw new InvalidDataException($"'{path}' is not a MetricLearning index file (bad magic; {PositionsMagic} or {KeysMagic} expected).");
            string name = IndexFileNames.Read(reader, path);
            int settingCount = reader.ReadInt32();
            if (settingCount is < 0 or > 64)
                throw new InvalidDataException($"'{path}' declares {settingCount} distance settings.");
            var settings = new Dictionary<string, double>(StringComparer.Ordinal);
            for (int i = 0; i < settingCount; i++)
                settings[IndexFileNames.Read(reader, path)] = reader.ReadDouble();
            EmbeddingDistance distance;
            try
            {
                distance = EmbeddingDistance.Create(name, settings);
            }
            catch (ArgumentException ex)
            {
                throw new InvalidDataException($"'{path}' was saved with a distance this package cannot compute: {ex.Message}", ex);
            }

            long dimensions = reader.ReadInt64();
            int count = reader.ReadInt32();
            bool keyed = magic == KeysMagic;
            long remaining = reader.BaseStream.Length - reader.BaseStream.Position;
            long perVector = 4 + (keyed ? 8 : 0);
            if (count < 0 || dimensions < 1 || dimensions > int.MaxValue || (count > 0 && dimensions > remaining / 4 / count))
                throw new InvalidDataException($"'{path}' declares {count} vectors of width {dimensions}, which its {reader.BaseStream.Length} bytes cannot hold.");
            long expected = reader.BaseStream.Position + perVector * count + 4L * count * dimensions;
            if (reader.BaseStream.Length != expected)
                throw new InvalidDataException($"'{path}' should be {expected} bytes for {count} vectors of width {dimensions}, but is {reader.BaseStream.Length}.");

            var labels = new int[count];
            for (int i = 0; i < count; i++)
                labels[i] = reader.ReadInt32();
            var keys = new long[count];
            for (int i = 0; i < count; i++)
                keys[i] = keyed ? reader.ReadInt64() : i;
            var vectors = new float[count][];
            for (int i = 0; i < count; i++)
            {
                vectors[i] = new float[dimensions];
                reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(vectors[i].AsSpan()));
            }

            var index = new ExactIndex(distance, (int)dimensions);
            try
            {
                index.Add(keys, vectors, labels);
            }
            catch (ArgumentException ex)
            {
                index.Dispose();
                throw new InvalidDataException($"'{path}' holds vectors that cannot be indexed: {ex.Message}", ex);
            }

            return index;
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException($"'{path}' is truncated.", ex);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _gate.EnterWriteLock();
        try
        {
            _disposed = true;
            _rows = Array.Empty<float>();
            _count = 0;
            _slots.Clear();
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    private T Read<T>(Func<T> read)
    {
        _gate.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return read();
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    private Span<float> Row(int slot) => _rows.AsSpan(slot * Dimensions, Dimensions);

    private void Write(IReadOnlyList<long> keys, IReadOnlyList<float[]> vectors, IReadOnlyList<int>? labels, bool replace)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(vectors);
        if (keys.Count != vectors.Count || (labels is not null && labels.Count != keys.Count))
            throw new ArgumentException($"There are {keys.Count} keys, {vectors.Count} vectors and {labels?.Count ?? keys.Count} labels; they must be as many.", nameof(vectors));
        var seen = new HashSet<long>();
        for (int i = 0; i < keys.Count; i++)
        {
            if (!seen.Add(keys[i]))
                throw new ArgumentException($"Key {keys[i]} is given twice; keys must be unique.", nameof(keys));
            CheckVector(vectors[i], $"{nameof(vectors)}[{i}]");
        }

        _gate.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!replace)
            {
                foreach (long key in keys)
                {
                    if (_slots.ContainsKey(key))
                        throw new ArgumentException($"Key {key} is already in the index; use Upsert to replace its vector.", nameof(keys));
                }
            }

            EnsureCapacity(_count + keys.Count);
            for (int i = 0; i < keys.Count; i++)
            {
                if (!_slots.TryGetValue(keys[i], out int slot))
                {
                    slot = _count++;
                    _slots[keys[i]] = slot;
                    _keys[slot] = keys[i];
                }

                vectors[i].CopyTo(Row(slot));
                _norms[slot] = (float)EmbeddingDistance.FlooredNorm(vectors[i]);
                _labels[slot] = labels?[i] ?? 0;
            }
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    private void EnsureCapacity(int count)
    {
        if (count <= _keys.Length)
            return;
        int capacity = Math.Max(count, Math.Max(16, _keys.Length * 2));
        if ((long)capacity * Dimensions > Array.MaxLength)
        {
            capacity = (int)(Array.MaxLength / Dimensions);
            if (capacity < count)
                throw new ArgumentException($"An exact index holds at most {capacity:N0} vectors of width {Dimensions}; use ApproximateIndex for more.", "vectors");
        }

        Array.Resize(ref _rows, capacity * Dimensions);
        Array.Resize(ref _norms, capacity);
        Array.Resize(ref _keys, capacity);
        Array.Resize(ref _labels, capacity);
    }

    private void CheckVector(float[]? vector, string name)
    {
        if (vector is null)
            throw new ArgumentNullException(name);
        if (vector.Length != Dimensions)
            throw new ArgumentException($"{name} has {vector.Length} values; the index holds {Dimensions}-d vectors.", name);
        for (int i = 0; i < vector.Length; i++)
        {
            if (!float.IsFinite(vector[i]))
                throw new ArgumentException($"{name} holds {vector[i]} at position {i}; values must be finite.", name);
        }
    }

    private void CheckSearch(int k)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_count == 0)
            throw new InvalidOperationException("The index is empty; add vectors before searching it.");
        if (k < 1 || k > _count)
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be between 1 and the {_count} indexed vectors.");
    }

    /// <summary>The top k by a bounded heap whose root is the worst kept so far (larger badness, then larger key).</summary>
    private IReadOnlyList<Neighbour> SearchLocked(float[] query, int k, Func<long, bool>? filter)
    {
        float queryNorm = (float)EmbeddingDistance.FlooredNorm(query);
        float querySquared = TensorPrimitives.Dot(query, query);
        bool similarity = Distance.IsSimilarity;
        var kept = new PriorityQueue<int, (float Badness, long Key)>(Math.Min(k, _count) + 1, WorstFirst.Instance);
        for (int slot = 0; slot < _count; slot++)
        {
            long key = _keys[slot];
            if (filter is not null && !filter(key))
                continue;
            float score = Score(query, queryNorm, querySquared, slot);
            var priority = (similarity ? -score : score, key);
            if (kept.Count < k)
                kept.Enqueue(slot, priority);
            else if (kept.TryPeek(out _, out var worst) && WorstFirst.Instance.Compare(priority, worst) > 0)
                kept.DequeueEnqueue(slot, priority);
        }

        var found = new Neighbour[kept.Count];
        for (int i = found.Length - 1; i >= 0; i--)
        {
            kept.TryDequeue(out int slot, out var priority);
            found[i] = new Neighbour(_keys[slot], similarity ? -priority.Badness : priority.Badness, _labels[slot]);
        }

        return found;
    }

    private float Score(float[] query, float queryNorm, float querySquared, int slot)
    {
        ReadOnlySpan<float> row = Row(slot);
        switch (Distance.Kind)
        {
            case DistanceKind.Euclidean:
                return MathF.Max(TensorPrimitives.Distance(query, row), _euclideanFloor);
            case DistanceKind.SquaredEuclidean when !Distance.Normalize:
                float distance = TensorPrimitives.Distance(query, row);
                return distance * distance;
            case DistanceKind.SquaredEuclidean:
                // |a/na − b/nb|² expanded, so that no normalised copy is made; the norms are floored as the distance floors them.
                float rowNorm = _norms[slot];
                float rowSquared = TensorPrimitives.Dot(row, row);
                float value = querySquared / (queryNorm * queryNorm) + rowSquared / (rowNorm * rowNorm)
                    - 2 * TensorPrimitives.Dot(query, row) / (queryNorm * rowNorm);
                return MathF.Max(value, 0);
            case DistanceKind.CosineDistance:
                return 1 - TensorPrimitives.Dot(query, row) / (queryNorm * _norms[slot]);
            case DistanceKind.CosineSimilarity:
                return TensorPrimitives.Dot(query, row) / (queryNorm * _norms[slot]);
            case DistanceKind.DotProduct:
                float dot = TensorPrimitives.Dot(query, row);
                return Distance.Normalize ? dot / (queryNorm * _norms[slot]) : dot;
            default:
                return (float)Distance.Compute(query, row);
        }
    }

    /// <summary>Orders candidates worst first: larger badness, then the larger key (so ties keep smaller keys).</summary>
    private sealed class WorstFirst : IComparer<(float Badness, long Key)>
    {
        internal static readonly WorstFirst Instance = new();

        public int Compare((float Badness, long Key) x, (float Badness, long Key) y)
        {
            int byBadness = y.Badness.CompareTo(x.Badness);
            return byBadness != 0 ? byBadness : y.Key.CompareTo(x.Key);
        }
    }
}
