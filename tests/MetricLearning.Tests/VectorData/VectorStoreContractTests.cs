using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Extensions.AI;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using MetricLearning.VectorData;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.VectorData;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.VectorData;

/// <summary>
/// The behaviour any Microsoft.Extensions.VectorData store should have, written against the abstraction only
/// (<see cref="VectorStore"/> and <see cref="VectorStoreCollection{TKey, TRecord}"/>): a connector's tests derive from
/// this class and say how to open their store. Expected answers are computed here, in float64, from the records.
/// </summary>
public abstract class VectorStoreContractTests : IDisposable
{
    private readonly TempFolder _folder = new();

    /// <summary>Opens the store under test, on <paramref name="place"/> (a folder, or whatever names a database), embedding with <paramref name="generator"/>.</summary>
    protected abstract VectorStore OpenStore(string place, IEmbeddingGenerator? generator);

    public void Dispose() => _folder.Dispose();

    private static float[] Vector(int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, 4).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }

    private static Product[] Products(int count, int seed = 0) => Enumerable.Range(1, count).Select(i => new Product
    {
        Id = i,
        Category = i % 3 == 0 ? "shoes" : "hats",
        Price = i * 5,
        Tags = new[] { $"t{i % 4}" },
        Embedding = Vector(seed * 10_000 + i),
    }).ToArray();

    private async Task<VectorStoreCollection<int, Product>> Products(VectorStore store, Product[] products)
    {
        var collection = store.GetCollection<int, Product>("products");
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(products);
        return collection;
    }

    [Fact]
    public async Task Records_are_written_read_replaced_and_deleted()
    {
        using var store = OpenStore(_folder.Path, null);
        var products = Products(5);
        var collection = await Products(store, products);

        var read = await collection.GetAsync(3, new RecordRetrievalOptions { IncludeVectors = true });
        read.Should().NotBeSameAs(products[2]);
        read!.Category.Should().Be("shoes");
        read.Price.Should().Be(15);
        read.Tags.Should().Equal("t3");
        read.Embedding.ToArray().Should().Equal(products[2].Embedding.ToArray());
        (await collection.GetAsync(3))!.Embedding.Length.Should().Be(0, "vectors come back only when asked for");
        (await collection.GetAsync(99)).Should().BeNull();

        await collection.UpsertAsync(new Product { Id = 3, Category = "coats", Price = 1, Embedding = Vector(77) });
        (await collection.GetAsync(3))!.Category.Should().Be("coats");
        await collection.DeleteAsync(new[] { 1, 2, 42 });
        await collection.DeleteAsync(4);
        var left = await collection.GetAsync(new[] { 1, 2, 3, 4, 5, 6 }).ToListAsync();
        left.Select(p => p.Id).Should().BeEquivalentTo(new[] { 3, 5 });
        (await collection.GetAsync(r => true, 100).ToListAsync()).Should().HaveCount(2);
    }

    [Fact]
    public async Task Search_finds_the_nearest_records_with_and_without_filters()
    {
        using var store = OpenStore(_folder.Path, null);
        var products = Products(60);
        var collection = await Products(store, products);
        float[] query = Vector(12345);

        var found = await collection.SearchAsync(query, 5).ToListAsync();
        var shoes = await collection.SearchAsync(query, 5, new VectorSearchOptions<Product> { Filter = p => p.Category == "shoes" }).ToListAsync();
        var paged = await collection.SearchAsync(new ReadOnlyMemory<float>(query), 3, new VectorSearchOptions<Product> { Skip = 2 }).ToListAsync();

        var expected = products.Select(p => (p.Id, Score: Cosine(query, p.Embedding.ToArray()))).OrderByDescending(e => e.Score).ToArray();
        found.Select(r => r.Record.Id).Should().Equal(expected.Take(5).Select(e => e.Id));
        found.Select(r => r.Score!.Value).Should().Equal(expected.Take(5).Select(e => e.Score), (a, b) => Math.Abs(a - b) < 1e-5);
        shoes.Select(r => r.Record.Id).Should().Equal(expected.Where(e => e.Id % 3 == 0).Take(5).Select(e => e.Id));
        shoes.Should().OnlyContain(r => r.Record.Category == "shoes");
        paged.Select(r => r.Record.Id).Should().Equal(expected.Skip(2).Take(3).Select(e => e.Id));
        var none = await collection.SearchAsync(query, 5, new VectorSearchOptions<Product> { Filter = p => p.Category == "gloves" }).ToListAsync();
        none.Should().BeEmpty();
    }

    [Fact]
    public async Task A_filtered_get_orders_and_pages()
    {
        using var store = OpenStore(_folder.Path, null);
        var products = Products(20);
        var collection = await Products(store, products);

        var page = await collection.GetAsync(p => p.Price > 40 && p.Category == "hats", 3,
            new FilteredRecordRetrievalOptions<Product> { OrderBy = order => order.Descending(p => p.Price).Ascending(p => p.Id), Skip = 1 }).ToListAsync();

        var expected = products.Where(p => p.Price > 40 && p.Category == "hats").OrderByDescending(p => p.Price).ThenBy(p => p.Id).Skip(1).Take(3);
        page.Select(p => p.Id).Should().Equal(expected.Select(p => p.Id));
    }

    [Fact]
    public async Task Records_that_carry_the_models_input_are_embedded_by_its_generator()
    {
        string modelFolder = Path.Combine(_folder.Path, "model");
        manual_seed(5);
        using (var network = new MlpEmbeddingNetwork(new MlpOptions { InputSize = 6, LayerSizes = new[] { 16, 12 } }))
            new TrainedModel(network, new CosineSimilarity(), 0.8, inputShape: new long[] { 6 }).Save(modelFolder);
        await using var provider = new ServiceCollection().AddTrainedModelEmbeddingGenerator(modelFolder).BuildServiceProvider();
        var generator = provider.GetRequiredService<IEmbeddingGenerator<float[], Embedding<float>>>();
        var random = new Random(6);
        var inputs = Enumerable.Range(0, 20).Select(_ => Enumerable.Range(0, 6).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
        var embeddings = (await generator.GenerateAsync(inputs)).Select(e => e.Vector.ToArray()).ToArray();

        using var store = OpenStore(Path.Combine(_folder.Path, "store"), generator);
        var photos = store.GetCollection<Guid, Photo>("photos");
        await photos.EnsureCollectionExistsAsync();
        var records = inputs.Select((input, i) => new Photo { Name = $"photo {i}", Pixels = new ModelInput(input) }).ToArray();
        await photos.UpsertAsync(records);

        records.Should().OnlyContain(r => r.Id != Guid.Empty, "generated keys are written back into the records");
        var found = await photos.SearchAsync(new ModelInput(inputs[7]), 3).ToListAsync();
        var expected = embeddings.Select((e, i) => (Name: $"photo {i}", Score: Cosine(embeddings[7], e))).OrderByDescending(e => e.Score).Take(3).ToArray();
        found.Select(r => r.Record.Name).Should().Equal(expected.Select(e => e.Name));
        found[0].Score!.Value.Should().BeApproximately(1, 1e-5);
        found.Select(r => r.Score!.Value).Should().Equal(expected.Select(e => e.Score), (a, b) => Math.Abs(a - b) < 1e-5);
        (await photos.GetAsync(records[7].Id))!.Pixels.Should().BeNull("the store keeps the embedding, not the input");
        await photos.Invoking(c => c.GetAsync(records[7].Id, new RecordRetrievalOptions { IncludeVectors = true })).Should().ThrowAsync<NotSupportedException>();
    }

    [Fact]
    public async Task Records_survive_a_restart()
    {
        var products = Products(30);
        float[] query = Vector(999);
        List<int> before;
        using (var store = OpenStore(_folder.Path, null))
        {
            var collection = await Products(store, products);
            await collection.DeleteAsync(7);
            await collection.UpsertAsync(new Product { Id = 8, Category = "coats", Price = 3, Embedding = Vector(888) });
            before = (await collection.SearchAsync(query, 10).ToListAsync()).Select(r => r.Record.Id).ToList();
        }

        using var reopened = OpenStore(_folder.Path, null);
        (await reopened.CollectionExistsAsync("products")).Should().BeTrue();
        var again = reopened.GetCollection<int, Product>("products");
        (await again.GetAsync(7)).Should().BeNull();
        (await again.GetAsync(8))!.Category.Should().Be("coats");
        (await again.GetAsync(r => true, 100).ToListAsync()).Should().HaveCount(29);
        (await again.SearchAsync(query, 10).ToListAsync()).Select(r => r.Record.Id).Should().Equal(before);
    }

    [Fact]
    public async Task Eight_concurrent_writers_and_readers_lose_nothing()
    {
        using (var store = OpenStore(_folder.Path, null))
        {
            var collection = store.GetCollection<int, Product>("products");
            await collection.EnsureCollectionExistsAsync();
            await Task.WhenAll(Enumerable.Range(0, 8).Select(writer => Task.Run(async () =>
            {
                for (int batch = 0; batch < 10; batch++)
                {
                    var records = Enumerable.Range(0, 10).Select(i => writer * 1000 + batch * 10 + i).Select(id => new Product
                    {
                        Id = id, Category = $"w{writer}", Price = id, Embedding = Vector(id),
                    }).ToArray();
                    await collection.UpsertAsync(records);
                    var mine = await collection.SearchAsync(records[3].Embedding, 1, new VectorSearchOptions<Product> { Filter = p => p.Category == $"w{writer}" }).ToListAsync();
                    mine.Single().Record.Id.Should().Be(records[3].Id, "a record is its own nearest neighbour");
                    (await collection.GetAsync(records[9].Id))!.Price.Should().Be(records[9].Id);
                }
            })));

            var all = await collection.GetAsync(p => true, 10_000).ToListAsync();
            all.Should().HaveCount(800);
            all.Should().OnlyContain(p => p.Price == p.Id && p.Category == $"w{p.Id / 1000}");
        }

        using var reopened = OpenStore(_folder.Path, null);
        (await reopened.GetCollection<int, Product>("products").GetAsync(p => true, 10_000).ToListAsync()).Should().HaveCount(800);
    }

    [Fact]
    public async Task Collections_are_created_listed_and_deleted()
    {
        using var store = OpenStore(_folder.Path, null);
        var collection = store.GetCollection<int, Product>("catalogue");
        (await collection.CollectionExistsAsync()).Should().BeFalse();
        await collection.Invoking(c => c.UpsertAsync(Products(1))).Should().ThrowAsync<VectorStoreException>();

        await collection.EnsureCollectionExistsAsync();
        await collection.EnsureCollectionExistsAsync();
        await store.GetCollection<int, Product>("other").EnsureCollectionExistsAsync();

        (await store.ListCollectionNamesAsync().ToListAsync()).Should().Contain(new[] { "catalogue", "other" });
        (await store.CollectionExistsAsync("catalogue")).Should().BeTrue();
        await store.EnsureCollectionDeletedAsync("catalogue");
        await store.EnsureCollectionDeletedAsync("catalogue");
        (await collection.CollectionExistsAsync()).Should().BeFalse();
        (await store.ListCollectionNamesAsync().ToListAsync()).Should().NotContain("catalogue");
        store.GetService(typeof(VectorStoreMetadata)).Should().BeOfType<VectorStoreMetadata>();
        collection.GetService(typeof(VectorStoreCollectionMetadata)).Should().BeOfType<VectorStoreCollectionMetadata>()
            .Which.CollectionName.Should().Be("catalogue");
    }

    [Fact]
    public async Task A_dynamic_collection_reads_and_searches_dictionaries()
    {
        using var store = OpenStore(_folder.Path, null);
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            {
                new VectorStoreKeyProperty("Key", typeof(string)),
                new VectorStoreDataProperty("Colour", typeof(string)),
                new VectorStoreVectorProperty("Vector", typeof(ReadOnlyMemory<float>), 4) { DistanceFunction = DistanceFunction.EuclideanDistance },
            },
        };
        var collection = store.GetDynamicCollection("things", definition);
        await collection.EnsureCollectionExistsAsync();
        var vectors = Enumerable.Range(0, 10).Select(i => Vector(500 + i)).ToArray();
        await collection.UpsertAsync(vectors.Select((v, i) => new Dictionary<string, object?>
        {
            ["Key"] = $"k{i}", ["Colour"] = i % 2 == 0 ? "red" : "blue", ["Vector"] = new ReadOnlyMemory<float>(v),
        }));

        var found = await collection.SearchAsync(vectors[4], 2, new VectorSearchOptions<Dictionary<string, object?>> { Filter = r => (string)r["Colour"]! == "red" }).ToListAsync();

        found[0].Record["Key"].Should().Be("k4");
        found[0].Score!.Value.Should().BeApproximately(0, 1e-6);
        found[1].Record["Colour"].Should().Be("red");
        double expected = vectors.Where((_, i) => i % 2 == 0 && i != 4).Min(v => Math.Sqrt(v.Zip(vectors[4], (a, b) => (double)(a - b) * (a - b)).Sum()));
        found[1].Score!.Value.Should().BeApproximately(expected, 1e-5);
        (await collection.GetAsync("k3"))!["Colour"].Should().Be("blue");
    }

    [Fact]
    public async Task A_key_given_twice_in_a_batch_keeps_its_last_record_and_deletions_reach_the_search()
    {
        using var store = OpenStore(_folder.Path, null);
        var collection = await Products(store, Products(10));
        float[] query = Vector(4321);

        await collection.UpsertAsync(new[]
        {
            new Product { Id = 50, Category = "first", Embedding = query },
            new Product { Id = 50, Category = "second", Embedding = query },
        });
        await collection.DeleteAsync(new[] { 1, 2, 3 });

        var found = await collection.SearchAsync(query, 100).ToListAsync();
        found.Should().HaveCount(8, "7 left of the 10, and one record for key 50");
        found[0].Record.Id.Should().Be(50);
        found[0].Record.Category.Should().Be("second");
        found.Select(r => r.Record.Id).Should().NotContain(new[] { 1, 2, 3 });
        (await collection.SearchAsync(query, int.MaxValue, new VectorSearchOptions<Product> { Skip = 5 }).ToListAsync()).Should().HaveCount(3);
    }

    [Fact]
    public async Task Bad_arguments_are_refused_before_anything_is_written()
    {
        using var store = OpenStore(_folder.Path, null);
        var collection = await Products(store, Products(3));

        await collection.Invoking(c => c.UpsertAsync((Product)null!)).Should().ThrowAsync<ArgumentNullException>();
        await collection.Invoking(c => c.UpsertAsync(new[] { new Product { Id = 9, Embedding = new float[] { 1, 2, 3 } } }))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*Embedding*3 values*4*");
        await collection.Invoking(c => c.SearchAsync(new float[] { 1, 2 }, 1).ToListAsync().AsTask()).Should().ThrowAsync<ArgumentException>();
        await collection.Invoking(c => c.SearchAsync(new float[] { 1, 2, 3, 4 }, 0).ToListAsync().AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>();
        await collection.Invoking(c => c.SearchAsync("text", 1).ToListAsync().AsTask()).Should().ThrowAsync<NotSupportedException>();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await collection.Invoking(c => c.UpsertAsync(new Product { Id = 4, Embedding = Vector(4) }, cancelled.Token)).Should().ThrowAsync<OperationCanceledException>();
        await collection.Invoking(c => c.SearchAsync(new float[] { 1, 2, 3, 4 }, 1, cancellationToken: cancelled.Token).ToListAsync().AsTask()).Should().ThrowAsync<OperationCanceledException>();
        (await collection.GetAsync(9)).Should().BeNull();
        (await collection.GetAsync(4)).Should().BeNull("a cancelled upsert writes nothing");
        (await collection.GetAsync(p => true, 10).ToListAsync()).Should().HaveCount(3);
    }
}
