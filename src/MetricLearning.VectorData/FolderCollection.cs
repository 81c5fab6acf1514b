using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace MetricLearning.VectorData;

/// <summary>
/// A collection of a <see cref="FolderVectorStore"/>: records mapped by the abstraction's attributes (or a
/// definition), kept in the store's folder, searched exactly or approximately by each vector property. Get one from
/// <see cref="FolderVectorStore.GetCollection{TKey, TRecord}"/>.
/// </summary>
/// <typeparam name="TKey">The key's type: Guid, string, int or long (object for a dynamic collection).</typeparam>
/// <typeparam name="TRecord">The record's type (<c>Dictionary&lt;string, object?&gt;</c> for a dynamic collection).</typeparam>
/// <remarks>
/// <para>
/// Follows the abstraction's contract: a missing key reads as null and deletes as nothing; an empty batch does
/// nothing; a Guid key left empty is generated and written back into the record; records are copies both ways (what
/// you upsert is copied in, what you get is yours). Operations on a collection that does not exist throw
/// <see cref="VectorStoreException"/>. A vector of the wrong width, or with a value that is not finite, is an
/// <see cref="ArgumentException"/> naming the property, and nothing of the batch is written.
/// </para>
/// <para>
/// Thread-safe; handles on the same collection share its records. Reads and searches run side by side, writes one at
/// a time; a write is on disk (flushed) before its task completes. Filters are LINQ expressions run on a copy of each
/// record (any expression the record's type can evaluate works, not only equality).
/// </para>
/// <para>
/// A filtered search on an exact (Flat) property compares the query with every record the filter lets through. On an
/// HNSW property it asks the graph for 4 times the records wanted, then 4 times more while too few pass; once that
/// would reach half the collection it scans the passing records exactly instead. So a filter that lets through a
/// fraction f of the records costs about 1/f times an unfiltered search, and never much more than an exact scan.
/// </para>
/// </remarks>
public sealed class FolderCollection<TKey, TRecord> : VectorStoreCollection<TKey, TRecord>
    where TKey : notnull
    where TRecord : class
{
    private readonly FolderVectorStore _store;
    private readonly CollectionModel _model;
    private readonly CollectionState _state;

    /// <summary>The shape of this handle's filter copies: records of this type with these properties (interned, so compared by reference).</summary>
    private readonly string _shape;

    internal FolderCollection(FolderVectorStore store, string name, CollectionModel model, CollectionState state)
    {
        _store = store;
        Name = name;
        _model = model;
        _state = state;
        _shape = string.Intern($"{typeof(TRecord).FullName}|{string.Join(",", model.Properties.Select(p => $"{p.ModelName}:{p.StorageName}"))}");
    }

    /// <inheritdoc />
    public override string Name { get; }

    /// <inheritdoc />
    public override Task<bool> CollectionExistsAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(_state.Exists);
    }

    /// <inheritdoc />
    public override Task EnsureCollectionExistsAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _state.EnsureExists();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override Task EnsureCollectionDeletedAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _state.Delete();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override Task<TRecord?> GetAsync(TKey key, RecordRetrievalOptions? options = null, CancellationToken cancellationToken = default)
    {
        object stored = CheckKey(key, nameof(key));
        bool vectors = IncludeVectors(options?.IncludeVectors ?? false);
        cancellationToken.ThrowIfCancellationRequested();
        var record = _state.Read(() => _state.Find(stored));
        return Task.FromResult(record is null ? null : Materialize(record, vectors));
    }

    /// <inheritdoc />
    public override IAsyncEnumerable<TRecord> GetAsync(IEnumerable<TKey> keys, RecordRetrievalOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var stored = keys.Select(key => CheckKey(key, nameof(keys))).ToArray();
        bool vectors = IncludeVectors(options?.IncludeVectors ?? false);
        return Records(() => stored.Select(_state.Find).Where(record => record is not null).Select(record => record!).ToArray(), vectors, cancellationToken);
    }

    /// <inheritdoc />
    public override IAsyncEnumerable<TRecord> GetAsync(
        Expression<Func<TRecord, bool>> filter, int top, FilteredRecordRetrievalOptions<TRecord>? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new FilteredRecordRetrievalOptions<TRecord>();
        bool vectors = IncludeVectors(options.IncludeVectors);
        var predicate = filter.Compile();
        var orderings = options.OrderBy?.Invoke(new FilteredRecordRetrievalOptions<TRecord>.OrderByDefinition()).Values
            .Select(sort => (Key: sort.PropertySelector.Compile(), sort.Ascending)).ToArray() ?? Array.Empty<(Func<TRecord, object?>, bool)>();
        int skip = options.Skip;
        return Records(() =>
        {
            var matching = _state.All().Select(record => (Record: record, Shadow: Shadow(record))).Where(entry => predicate(entry.Shadow));
            IOrderedEnumerable<(StoredRecord Record, TRecord Shadow)>? ordered = null;
            foreach (var (key, ascending) in orderings)
            {
                Func<(StoredRecord Record, TRecord Shadow), object?> selector = entry => key(entry.Shadow);
                ordered = ordered is null
                    ? ascending ? matching.OrderBy(selector, Comparer<object?>.Default) : matching.OrderByDescending(selector, Comparer<object?>.Default)
                    : ascending ? ordered.ThenBy(selector, Comparer<object?>.Default) : ordered.ThenByDescending(selector, Comparer<object?>.Default);
            }

            return (ordered ?? matching).Skip(skip).Take(top).Select(entry => entry.Record).ToArray();
        }, vectors, cancellationToken);
    }

    /// <inheritdoc />
    public override Task DeleteAsync(TKey key, CancellationToken cancellationToken = default)
    {
        object stored = CheckKey(key, nameof(key));
        cancellationToken.ThrowIfCancellationRequested();
        _state.Delete(new[] { stored });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override Task DeleteAsync(IEnumerable<TKey> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var stored = keys.Select(key => CheckKey(key, nameof(keys))).ToArray();
        cancellationToken.ThrowIfCancellationRequested();
        if (stored.Length > 0)
            _state.Delete(stored);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override Task UpsertAsync(TRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return UpsertAsync(new[] { record }, cancellationToken);
    }

    /// <inheritdoc />
    public override async Task UpsertAsync(IEnumerable<TRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        var batch = records.ToArray();
        for (int i = 0; i < batch.Length; i++)
        {
            if (batch[i] is null)
                throw new ArgumentNullException(nameof(records), $"Record {i} of the batch is null.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (batch.Length == 0)
            return;

        var vectors = new float[]?[batch.Length][];
        for (int i = 0; i < batch.Length; i++)
            vectors[i] = new float[]?[_model.VectorProperties.Count];
        for (int v = 0; v < _model.VectorProperties.Count; v++)
        {
            var property = _model.VectorProperties[v];
            if (property.EmbeddingType == property.Type)
            {
                for (int i = 0; i < batch.Length; i++)
                    vectors[i][v] = Check(property, ToArray(property.GetValueAsObject(batch[i])), batch[i]);
                continue;
            }

            // The record carries the model's input: the property's generator embeds those given, in one call.
            var given = Enumerable.Range(0, batch.Length).Where(i => property.GetValueAsObject(batch[i]) is not null).ToArray();
            if (given.Length == 0)
                continue;
            var embeddings = await property.GenerateEmbeddingsAsync(given.Select(i => property.GetValueAsObject(batch[i])), cancellationToken).ConfigureAwait(false);
            if (embeddings.Count != given.Length)
                throw new InvalidOperationException($"The embedding generator of '{property.ModelName}' returned {embeddings.Count} embeddings for {given.Length} inputs.");
            for (int j = 0; j < given.Length; j++)
            {
                float[] embedding = embeddings[j] is Embedding<float> floats ? floats.Vector.ToArray()
                    : throw new InvalidOperationException($"The embedding generator of '{property.ModelName}' returned a {embeddings[j].GetType().Name}; this store keeps Embedding<float>.");
                if (embedding.Length != property.Dimensions)
                    throw new InvalidOperationException($"The embedding generator of '{property.ModelName}' made a {embedding.Length}-value embedding; the property is declared with {property.Dimensions} dimensions.");
                vectors[given[j]][v] = Check(property, embedding, batch[given[j]]);
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        var stored = new StoredRecord[batch.Length];
        for (int i = 0; i < batch.Length; i++)
        {
            var data = _model.DataProperties.Select(property => Copy(property.GetValueAsObject(batch[i]))).ToArray();
            stored[i] = new StoredRecord(RecordKey(batch[i]), data, vectors[i]);
        }

        // A key given twice in one batch: the last record wins, as if the records were upserted one by one.
        var last = new Dictionary<object, int>();
        for (int i = 0; i < stored.Length; i++)
            last[stored[i].Key] = i;
        _state.Upsert(last.Count == stored.Length ? stored : stored.Where((record, i) => last[record.Key] == i).ToArray());
    }

    /// <inheritdoc />
    public override IAsyncEnumerable<VectorSearchResult<TRecord>> SearchAsync<TInput>(
        TInput searchValue, int top, VectorSearchOptions<TRecord>? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(searchValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new VectorSearchOptions<TRecord>();
        bool vectors = IncludeVectors(options.IncludeVectors);
        var property = _model.GetVectorPropertyOrSingle(options);
        int index = 0;
        while (_model.VectorProperties[index] != property)
            index++;
        var predicate = options.Filter?.Compile();
        return Search(searchValue, property, index, top, options.Skip, options.ScoreThreshold, predicate, vectors, cancellationToken);
    }

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
            return null;
        if (serviceType == typeof(VectorStoreCollectionMetadata))
            return new VectorStoreCollectionMetadata { VectorStoreSystemName = FolderVectorStore.SystemName, VectorStoreName = _store.Folder, CollectionName = Name };
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    private async IAsyncEnumerable<VectorSearchResult<TRecord>> Search<TInput>(
        TInput searchValue, VectorPropertyModel property, int index, int top, int skip, double? threshold, Func<TRecord, bool>? predicate, bool vectors,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        float[] query = searchValue switch
        {
            ReadOnlyMemory<float> memory => memory.ToArray(),
            float[] array => array,
            Embedding<float> embedding => embedding.Vector.ToArray(),
            _ when property.EmbeddingGenerationDispatcher is not null =>
                (await property.GenerateEmbeddingAsync(searchValue, cancellationToken).ConfigureAwait(false)) is Embedding<float> generated
                    ? generated.Vector.ToArray()
                    : throw new InvalidOperationException($"The embedding generator of '{property.ModelName}' does not make Embedding<float>."),
            _ => throw new NotSupportedException(VectorDataStrings.InvalidSearchInputAndNoEmbeddingGeneratorWasConfigured(searchValue!.GetType(), FolderModelBuilder.VectorTypes)),
        };
        if (query.Length != property.Dimensions)
            throw new ArgumentException($"The search vector has {query.Length} values; '{property.ModelName}' holds {property.Dimensions}-dimensional vectors.", nameof(searchValue));
        for (int i = 0; i < query.Length; i++)
        {
            if (!float.IsFinite(query[i]))
                throw new ArgumentException($"The search vector holds {query[i]} at position {i}; values must be finite.", nameof(searchValue));
        }

        cancellationToken.ThrowIfCancellationRequested();
        int wanted = (int)Math.Min(int.MaxValue, (long)top + skip);
        var (found, descending) = _state.Read(() => (
            _state.Search(index, query, wanted, predicate is null ? null : record => predicate(Shadow(record))),
            _state.Descending(index)));
        foreach (var (record, score) in found.Skip(skip))
        {
            // Results come nearest first, so the threshold cuts a tail.
            if (threshold is { } limit && (descending ? score < limit : score > limit))
                yield break;
            cancellationToken.ThrowIfCancellationRequested();
            yield return new VectorSearchResult<TRecord>(Materialize(record, vectors), score);
        }
    }

    private async IAsyncEnumerable<TRecord> Records(Func<IReadOnlyList<StoredRecord>> read, bool vectors, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var found = _state.Read(read);
        foreach (var record in found)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return Materialize(record, vectors);
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <summary>Vectors can be returned only where the record holds them (not where they were generated from an input).</summary>
    private bool IncludeVectors(bool asked)
    {
        if (asked && _model.EmbeddingGenerationRequired)
            throw new NotSupportedException(VectorDataStrings.IncludeVectorsNotSupportedWithEmbeddingGeneration);
        return asked;
    }

    private object CheckKey(TKey key, string name)
    {
        if (key is null)
            throw new ArgumentNullException(name);
        var type = _model.KeyProperty.Type;
        if (!type.IsInstanceOfType(key))
            throw new ArgumentException($"The key {key} is a {key.GetType().Name}; this collection's keys are {type.Name}.", name);
        return key;
    }

    private object RecordKey(TRecord record)
    {
        var property = _model.KeyProperty;
        object? key = property.GetValueAsObject(record);
        if (property.IsAutoGenerated && (key is null || (key is Guid guid && guid == Guid.Empty)))
        {
            key = Guid.NewGuid();
            property.SetValueAsObject(record, key);
        }

        if (key is null)
            throw new ArgumentException($"A record's key '{property.ModelName}' is null; every record needs a key.", "records");
        if (!property.Type.IsInstanceOfType(key))
            throw new ArgumentException($"A record's key '{property.ModelName}' is a {key.GetType().Name}; this collection's keys are {property.Type.Name}.", "records");
        return key;
    }

    private static float[]? Check(VectorPropertyModel property, float[]? vector, TRecord record)
    {
        if (vector is null)
            return null;
        if (vector.Length != property.Dimensions)
            throw new ArgumentException($"The vector '{property.ModelName}' of a record has {vector.Length} values; the property is declared with {property.Dimensions} dimensions.", "records");
        for (int i = 0; i < vector.Length; i++)
        {
            if (!float.IsFinite(vector[i]))
                throw new ArgumentException($"The vector '{property.ModelName}' of a record holds {vector[i]} at position {i}; values must be finite.", "records");
        }

        return vector;
    }

    private static float[]? ToArray(object? value) => value switch
    {
        null => null,
        ReadOnlyMemory<float> memory => memory.ToArray(),
        float[] array => (float[])array.Clone(),
        Embedding<float> embedding => embedding.Vector.ToArray(),
        _ => throw new InvalidOperationException($"A {value.GetType().Name} is not a vector this store keeps ({FolderModelBuilder.VectorTypes})."),
    };

    /// <summary>Arrays and lists are copied, so that records going in or out share nothing with the store.</summary>
    private static object? Copy(object? value) => value switch
    {
        Array array => array.Clone(),
        IList list when value.GetType().IsGenericType => Activator.CreateInstance(value.GetType(), list),
        _ => value,
    };

    private TRecord Shadow(StoredRecord record)
    {
        var shadow = record.Shadow;
        if (shadow is not null && ReferenceEquals(shadow.Item1, _shape))
            return (TRecord)shadow.Item2;
        var made = Materialize(record, vectors: false);
        record.Shadow = Tuple.Create((object)_shape, (object)made);
        return made;
    }

    private TRecord Materialize(StoredRecord stored, bool vectors)
    {
        var record = _model.CreateRecord<TRecord>();
        _model.KeyProperty.SetValueAsObject(record, stored.Key);
        for (int i = 0; i < _model.DataProperties.Count; i++)
        {
            var property = _model.DataProperties[i];
            if (stored.Data[i] is null && record is IDictionary<string, object?> dynamic)
                dynamic[property.ModelName] = null;
            else
                property.SetValueAsObject(record, Copy(stored.Data[i]));
        }

        if (!vectors)
            return record;
        for (int v = 0; v < _model.VectorProperties.Count; v++)
        {
            var property = _model.VectorProperties[v];
            if (stored.Vectors[v] is not { } vector)
                continue;
            object value = (Nullable.GetUnderlyingType(property.Type) ?? property.Type) switch
            {
                var type when type == typeof(float[]) => vector.Clone(),
                var type when type == typeof(Embedding<float>) => new Embedding<float>((float[])vector.Clone()),
                _ => new ReadOnlyMemory<float>((float[])vector.Clone()),
            };
            property.SetValueAsObject(record, value);
        }

        return record;
    }
}
