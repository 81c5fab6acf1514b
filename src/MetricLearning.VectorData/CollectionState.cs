using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using MetricLearning.Distances;
using MetricLearning.Indexing;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace MetricLearning.VectorData;

/// <summary>
/// One collection's records, indexes and file, shared by every <see cref="FolderCollection{TKey, TRecord}"/> of its
/// name in a store (so that two handles on a collection never write past each other).
/// </summary>
/// <remarks>
/// Thread-safe: reads and searches run side by side under a read lock; upserts, deletions and the collection's
/// creation and deletion run alone. Loaded from its folder on first use.
/// </remarks>
internal sealed class CollectionState : IDisposable
{
    private const string Format = "metriclearning-vectordata-1";
    private readonly ReaderWriterLockSlim _gate = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<object, StoredRecord> _byKey = new();
    private readonly Dictionary<long, StoredRecord> _byId = new();
    private readonly EmbeddingDistance? _defaultDistance;
    private readonly ApproximateIndexOptions? _hnsw;
    private VectorSearch[] _searches = Array.Empty<VectorSearch>();
    private CollectionLog? _log;
    private long _nextId;
    private bool _loaded;

    internal CollectionState(string folder, string name, CollectionModel model, EmbeddingDistance? defaultDistance, ApproximateIndexOptions? hnsw)
    {
        Folder = folder;
        Name = name;
        Model = model;
        _defaultDistance = defaultDistance;
        _hnsw = hnsw;
        Schema = DescribeSchema(model);
    }

    /// <summary>The collection's folder.</summary>
    internal string Folder { get; }

    internal string Name { get; }

    /// <summary>The model of the handle that opened the collection first: the one its file is read and written with.</summary>
    internal CollectionModel Model { get; }

    /// <summary>What the file records of the model, to refuse a handle whose records map differently.</summary>
    internal string Schema { get; }

    private string SchemaPath => Path.Combine(Folder, "collection.json");

    private string LogPath => Path.Combine(Folder, "records.jsonl");

    /// <summary>Whether the collection exists on disk.</summary>
    internal bool Exists => File.Exists(SchemaPath);

    /// <summary>The schema a model gives a collection's file.</summary>
    internal static string DescribeSchema(CollectionModel model)
    {
        var node = new JsonObject
        {
            ["format"] = Format,
            ["key"] = new JsonObject { ["name"] = model.KeyProperty.StorageName, ["type"] = TypeName(model.KeyProperty.Type) },
            ["data"] = new JsonArray(model.DataProperties.Select(p => (JsonNode)new JsonObject { ["name"] = p.StorageName, ["type"] = TypeName(p.Type) }).ToArray()),
            ["vectors"] = new JsonArray(model.VectorProperties.Select(p => (JsonNode)new JsonObject
            {
                ["name"] = p.StorageName,
                ["dimensions"] = p.Dimensions,
                ["distance"] = p.DistanceFunction,
                ["index"] = p.IndexKind,
            }).ToArray()),
        };
        return node.ToJsonString();
    }

    /// <summary>A type as the schema names it: readable, and the same on every .NET version (no assembly names).</summary>
    private static string TypeName(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
            return TypeName(underlying) + "?";
        if (type.IsArray)
            return TypeName(type.GetElementType()!) + "[]";
        if (type.IsGenericType)
            return $"{type.Namespace}.{type.Name[..type.Name.IndexOf('`')]}<{string.Join(", ", type.GetGenericArguments().Select(TypeName))}>";
        return type.FullName ?? type.Name;
    }

    /// <summary>Builds each vector property's index once and throws it away, so that a mapping this store cannot serve is refused before anything is written.</summary>
    /// <exception cref="NotSupportedException">A vector property asks for a distance function or index kind the store does not have.</exception>
    internal static void Validate(CollectionModel model, EmbeddingDistance? defaultDistance, ApproximateIndexOptions? hnsw)
    {
        foreach (var search in BuildSearches(model, defaultDistance, hnsw))
            search.Dispose();
    }

    private static VectorSearch[] BuildSearches(CollectionModel model, EmbeddingDistance? defaultDistance, ApproximateIndexOptions? hnsw)
    {
        var built = new List<VectorSearch>();
        try
        {
            foreach (var property in model.VectorProperties)
                built.Add(new VectorSearch(property, defaultDistance, hnsw));
            return built.ToArray();
        }
        catch
        {
            foreach (var search in built)
                search.Dispose();
            throw;
        }
    }

    internal void EnsureExists()
    {
        _gate.EnterWriteLock();
        try
        {
            if (!Exists)
            {
                Directory.CreateDirectory(Folder);
                // What a deletion cut short may have left of ours: never records of a collection that no longer exists.
                foreach (string leftover in Directory.EnumerateFiles(Folder, "records.jsonl*").Concat(Directory.EnumerateFiles(Folder, "collection.json.tmp-*")))
                    File.Delete(leftover);
                AtomicFile.Write(SchemaPath, temporary => File.WriteAllText(temporary, Schema));
            }

            LoadLocked();
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    internal void Delete()
    {
        _gate.EnterWriteLock();
        try
        {
            Unload();
            if (Directory.Exists(Folder))
            {
                // The schema goes first, so that a deletion cut short leaves no collection that looks whole.
                if (File.Exists(SchemaPath))
                    File.Delete(SchemaPath);
                Directory.Delete(Folder, recursive: true);
            }
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <summary>Runs <paramref name="read"/> under the read lock, the collection loaded.</summary>
    /// <exception cref="VectorStoreException">The collection does not exist.</exception>
    internal T Read<T>(Func<T> read)
    {
        EnsureLoaded();
        _gate.EnterReadLock();
        try
        {
            ThrowIfMissing();
            return read();
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    internal StoredRecord? Find(object key) => _byKey.GetValueOrDefault(key);

    /// <summary>Every record, in no particular order.</summary>
    internal IEnumerable<StoredRecord> All() => _byId.Values;

    /// <summary>The nearest records of a query by one vector property, with their scores, filtered.</summary>
    /// <remarks>
    /// For an exact index the filter runs once per record first, and the scan compares the query only with those that
    /// pass. For HNSW it runs only on the candidates the graph returns, and on every record only if the search falls
    /// back to scanning (see <see cref="VectorSearch.Search"/>).
    /// </remarks>
    internal IReadOnlyList<(StoredRecord Record, double Score)> Search(int vector, float[] query, int count, Func<StoredRecord, bool>? filter)
    {
        var search = _searches[vector];
        IReadOnlyList<(long Id, double Score)> found;
        if (filter is null)
        {
            found = search.Search(query, count, null, Array.Empty<long>(), _ => throw new UnreachableException());
        }
        else if (!search.IsApproximate)
        {
            var passing = _byId.Values.Where(record => record.Vectors[vector] is not null && filter(record)).Select(record => record.Id).ToHashSet();
            found = passing.Count == 0 ? Array.Empty<(long, double)>() : search.Search(query, count, passing.Contains, passing, id => _byId[id].Vectors[vector]!);
        }
        else
        {
            found = search.Search(query, count, id => filter(_byId[id]),
                _byId.Values.Where(record => record.Vectors[vector] is not null && filter(record)).Select(record => record.Id),
                id => _byId[id].Vectors[vector]!);
        }

        return found.Select(match => (_byId[match.Id], match.Score)).ToArray();
    }

    internal bool Descending(int vector) => _searches[vector].Descending;

    /// <summary>Writes records (replacing those of the same keys): to the file first, then to memory and the indexes.</summary>
    /// <exception cref="VectorStoreException">The collection does not exist.</exception>
    internal void Upsert(IReadOnlyList<StoredRecord> records)
    {
        EnsureLoaded();
        _gate.EnterWriteLock();
        try
        {
            ThrowIfMissing();
            _log!.Append(new JsonObject { ["u"] = new JsonArray(records.Select(Encode).ToArray()) }.ToJsonString());
            Apply(records);
            CompactIfWasteful();
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <summary>Deletes the records of these keys; keys not in the collection are ignored.</summary>
    /// <exception cref="VectorStoreException">The collection does not exist.</exception>
    internal void Delete(IReadOnlyList<object> keys)
    {
        EnsureLoaded();
        _gate.EnterWriteLock();
        try
        {
            ThrowIfMissing();
            var present = keys.Distinct().Where(_byKey.ContainsKey).ToArray();
            if (present.Length == 0)
                return;
            _log!.Append(new JsonObject { ["x"] = new JsonArray(present.Select(EncodeKey).ToArray()) }.ToJsonString());
            foreach (object key in present)
                Remove(_byKey[key]);
            CompactIfWasteful();
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    public void Dispose()
    {
        _gate.EnterWriteLock();
        try
        {
            Unload();
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    private void EnsureLoaded()
    {
        if (Volatile.Read(ref _loaded) || !Exists)
            return;
        _gate.EnterWriteLock();
        try
        {
            if (Exists)
                LoadLocked();
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    private void ThrowIfMissing()
    {
        if (!_loaded || !Exists)
            throw new VectorStoreException($"Collection '{Name}' does not exist in '{Path.GetDirectoryName(Folder)}'; call EnsureCollectionExistsAsync first.")
            {
                VectorStoreSystemName = FolderVectorStore.SystemName,
                CollectionName = Name,
            };
    }

    private void LoadLocked()
    {
        if (_loaded)
            return;
        string saved = File.ReadAllText(SchemaPath);
        if (saved != Schema)
            throw new InvalidOperationException($"Collection '{Name}' in '{Folder}' was created for records mapped as {saved}; these records map as {Schema}.");
        var live = new Dictionary<object, StoredRecord>();
        try
        {
            _searches = BuildSearches(Model, _defaultDistance, _hnsw);
            _log = new CollectionLog(LogPath);
            _log.Open((line, number) =>
            {
                foreach (var (key, record) in Decode(line, number))
                {
                    if (record is null)
                        live.Remove(key);
                    else
                        live[key] = record;
                }
            });
            Apply(live.Values.ToArray());
        }
        catch
        {
            Unload();
            throw;
        }

        _loaded = true;
        CompactIfWasteful();
    }

    private void Unload()
    {
        _log?.Dispose();
        _log = null;
        foreach (var search in _searches)
            search.Dispose();
        _searches = Array.Empty<VectorSearch>();
        _byKey.Clear();
        _byId.Clear();
        _loaded = false;
    }

    /// <summary>Puts records in memory and the indexes, each under a new id (an id is never reused, so HNSW never sees a key twice).</summary>
    private void Apply(IReadOnlyList<StoredRecord> records)
    {
        foreach (var record in records)
        {
            if (_byKey.TryGetValue(record.Key, out var old))
                Remove(old);
            record.Id = _nextId++;
            _byKey[record.Key] = record;
            _byId[record.Id] = record;
        }

        // A key given twice in one batch: only its last record is live; the earlier one never reaches the indexes.
        var live = records.Where(r => _byId.TryGetValue(r.Id, out var current) && ReferenceEquals(current, r)).ToArray();
        for (int v = 0; v < _searches.Length; v++)
        {
            var withVector = live.Where(r => r.Vectors[v] is not null).ToArray();
            _searches[v].AddMany(withVector.Select(r => r.Id).ToArray(), withVector.Select(r => r.Vectors[v]!).ToArray());
        }
    }

    private void Remove(StoredRecord record)
    {
        _byKey.Remove(record.Key);
        _byId.Remove(record.Id);
        for (int v = 0; v < _searches.Length; v++)
        {
            if (record.Vectors[v] is not null)
                _searches[v].Remove(record.Id);
        }
    }

    /// <summary>Rewrites the file with the live records (in lines of up to 1,000) once it holds more than twice the lines they need.</summary>
    private void CompactIfWasteful()
    {
        if (_log is null || _log.Lines <= 2L * _byId.Count + 1024)
            return;
        try
        {
            _log.Rewrite(_byId.Values.OrderBy(r => r.Id).Chunk(1000)
                .Select(chunk => new JsonObject { ["u"] = new JsonArray(chunk.Select(Encode).ToArray()) }.ToJsonString()).ToArray());
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The write that got here is on disk already; the file stays as it was, and the next write tries again.
        }
    }

    private JsonNode? EncodeKey(object key) => JsonSerializer.SerializeToNode(key, Model.KeyProperty.Type);

    private object DecodeKey(JsonNode? node) => node.Deserialize(Model.KeyProperty.Type) ?? throw new JsonException("a key is null");

    private JsonObject Encode(StoredRecord record)
    {
        var data = new JsonObject();
        for (int i = 0; i < Model.DataProperties.Count; i++)
            data[Model.DataProperties[i].StorageName] = JsonSerializer.SerializeToNode(record.Data[i], Model.DataProperties[i].Type);
        var vectors = new JsonObject();
        for (int v = 0; v < Model.VectorProperties.Count; v++)
        {
            if (record.Vectors[v] is { } vector)
                vectors[Model.VectorProperties[v].StorageName] = Convert.ToBase64String(MemoryMarshal.AsBytes(vector.AsSpan()));
        }

        return new JsonObject { ["k"] = EncodeKey(record.Key), ["d"] = data, ["v"] = vectors };
    }

    /// <summary>A line: the keys it writes, each with its record, or with null for a deletion.</summary>
    private List<(object Key, StoredRecord? Record)> Decode(string line, long number)
    {
        try
        {
            var node = JsonNode.Parse(line)?.AsObject() ?? throw new JsonException("the line is empty");
            var entries = new List<(object, StoredRecord?)>();
            if (node["x"] is JsonArray deleted)
            {
                foreach (var key in deleted)
                    entries.Add((DecodeKey(key), null));
                return entries;
            }

            var upserted = node["u"] as JsonArray ?? throw new JsonException("it is neither an upsert nor a deletion");
            foreach (var item in upserted)
            {
                var record = item?.AsObject() ?? throw new JsonException("it holds a null record");
                object key = DecodeKey(record["k"]);
                var dataNode = record["d"]?.AsObject() ?? throw new JsonException("a record has no data");
                var data = new object?[Model.DataProperties.Count];
                for (int i = 0; i < data.Length; i++)
                    data[i] = dataNode[Model.DataProperties[i].StorageName].Deserialize(Model.DataProperties[i].Type);
                var vectorNode = record["v"]?.AsObject() ?? throw new JsonException("a record has no vectors");
                var vectors = new float[]?[Model.VectorProperties.Count];
                for (int v = 0; v < vectors.Length; v++)
                {
                    var property = Model.VectorProperties[v];
                    if (vectorNode[property.StorageName]?.GetValue<string>() is not { } text)
                        continue;
                    byte[] bytes = Convert.FromBase64String(text);
                    if (bytes.Length != 4 * property.Dimensions)
                        throw new JsonException($"its vector '{property.StorageName}' has {bytes.Length / 4} values, not {property.Dimensions}");
                    vectors[v] = MemoryMarshal.Cast<byte, float>(bytes).ToArray();
                    if (vectors[v]!.Any(value => !float.IsFinite(value)))
                        throw new JsonException($"its vector '{property.StorageName}' holds a value that is not finite");
                }

                entries.Add((key, new StoredRecord(key, data, vectors)));
            }

            return entries;
        }
        // ArgumentException: a JSON object that names a property twice.
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or NotSupportedException or ArgumentException)
        {
            throw new InvalidDataException($"'{LogPath}' line {number} is not a record this collection can read: {ex.Message}", ex);
        }
    }
}
