using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace MetricLearning.VectorData;

/// <summary>
/// A Microsoft.Extensions.VectorData store kept in a folder on this machine, without a database or TorchSharp: each
/// collection a subfolder, searched exactly (index kind Flat, the default) or approximately (Hnsw). Write an app
/// against <see cref="VectorStore"/> and it moves to a vector database by changing the line that creates the store.
/// </summary>
/// <remarks>
/// <para>
/// A collection's folder holds <c>collection.json</c> (how its records are mapped: key, data and vector properties,
/// dimensions, distance, index kind) and <c>records.jsonl</c> (every write, one JSON line each, flushed to disk before
/// the write returns). Opening a collection reads its records and rebuilds its indexes, so the first call on a large
/// collection takes a while (an HNSW graph is rebuilt on as many threads as the machine has).
/// </para>
/// <para>
/// One store per folder: a collection's file is locked while a store has it open, and a second store (in this process
/// or another) is refused with an <see cref="InvalidOperationException"/> naming the file. Thread-safe within the
/// store; every handle on a collection name shares that collection. Dispose the store to close the files.
/// </para>
/// </remarks>
public sealed partial class FolderVectorStore : VectorStore
{
    /// <summary>The <see cref="VectorStoreMetadata.VectorStoreSystemName"/> of this store.</summary>
    public const string SystemName = "metriclearning-folder";

    private readonly ConcurrentDictionary<string, CollectionState> _collections = new(StringComparer.Ordinal);
    private readonly FolderVectorStoreOptions _options;

    /// <summary>Opens (or starts) a store in a folder.</summary>
    /// <param name="folder">The folder; created when the first collection is.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <exception cref="ArgumentException">The folder is empty, or names an existing file.</exception>
    public FolderVectorStore(string folder, FolderVectorStoreOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        Folder = Path.GetFullPath(folder);
        if (File.Exists(Folder))
            throw new ArgumentException($"'{Folder}' is a file; a folder vector store needs a folder.", nameof(folder));
        _options = options ?? new FolderVectorStoreOptions();
    }

    /// <summary>The store's folder.</summary>
    public string Folder { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The name is not a valid collection name, or <typeparamref name="TRecord"/> is a dictionary (use <see cref="GetDynamicCollection"/>).</exception>
    /// <exception cref="InvalidOperationException">The collection is already open in this store with records mapped differently. (A collection on disk mapped differently is refused at its first use, with the same exception.)</exception>
    /// <exception cref="NotSupportedException">The record's mapping uses a type, distance function or index kind this store does not have.</exception>
    public override VectorStoreCollection<TKey, TRecord> GetCollection<TKey, TRecord>(string name, VectorStoreCollectionDefinition? definition = null)
    {
        if (typeof(TRecord) == typeof(Dictionary<string, object?>))
            throw new ArgumentException(VectorDataStrings.GetCollectionWithDictionaryNotSupported);
        CheckName(name);
        var model = new FolderModelBuilder().Build(typeof(TRecord), typeof(TKey), definition, _options.EmbeddingGenerator);
        CollectionState.Validate(model, _options.Distance, _options.Hnsw);
        return new FolderCollection<TKey, TRecord>(this, name, model, State(name, model));
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The name is not a valid collection name.</exception>
    /// <exception cref="InvalidOperationException">The collection is already open in this store with records mapped differently.</exception>
    /// <exception cref="NotSupportedException">The definition uses a type, distance function or index kind this store does not have.</exception>
    public override VectorStoreCollection<object, Dictionary<string, object?>> GetDynamicCollection(string name, VectorStoreCollectionDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        CheckName(name);
        var model = new FolderModelBuilder().BuildDynamic(definition, definition.EmbeddingGenerator ?? _options.EmbeddingGenerator);
        CollectionState.Validate(model, _options.Distance, _options.Hnsw);
        return new FolderCollection<object, Dictionary<string, object?>>(this, name, model, State(name, model));
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<string> ListCollectionNamesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!Directory.Exists(Folder))
            yield break;
        foreach (string folder in Directory.EnumerateDirectories(Folder).Order(StringComparer.Ordinal))
        {
            if (File.Exists(Path.Combine(folder, "collection.json")))
                yield return Path.GetFileName(folder);
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        CheckName(name);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(File.Exists(Path.Combine(Folder, name, "collection.json")));
    }

    /// <inheritdoc />
    public override Task EnsureCollectionDeletedAsync(string name, CancellationToken cancellationToken = default)
    {
        CheckName(name);
        cancellationToken.ThrowIfCancellationRequested();
        if (_collections.TryGetValue(name, out var state))
            state.Delete();
        else if (Directory.Exists(Path.Combine(Folder, name)))
            Directory.Delete(Path.Combine(Folder, name), recursive: true);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
            return null;
        if (serviceType == typeof(VectorStoreMetadata))
            return new VectorStoreMetadata { VectorStoreSystemName = SystemName, VectorStoreName = Folder };
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var state in _collections.Values)
                state.Dispose();
            _collections.Clear();
        }

        base.Dispose(disposing);
    }

    private CollectionState State(string name, CollectionModel model)
    {
        var state = _collections.GetOrAdd(name, _ => new CollectionState(Path.Combine(Folder, name), name, model, _options.Distance, _options.Hnsw));
        string schema = CollectionState.DescribeSchema(model);
        if (state.Schema != schema)
            throw new InvalidOperationException($"Collection '{name}' is open in this store with records mapped as {state.Schema}; these records map as {schema}.");
        return state;
    }

    private static void CheckName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!CollectionName().IsMatch(name))
            throw new ArgumentException($"'{name}' is not a collection name here: 1 to 128 letters, digits, '_', '-' or '.', starting with a letter or digit.", nameof(name));
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")]
    private static partial Regex CollectionName();
}
