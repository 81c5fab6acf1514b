using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Tests.TestSupport;
using MetricLearning.VectorData;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.VectorData;
using Xunit;

namespace MetricLearning.Tests.VectorData;

/// <summary>What is particular to the folder store: its files, its HNSW index kind, its refusals.</summary>
public sealed class FolderVectorStoreTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    public sealed class Point
    {
        [VectorStoreKey]
        public long Id { get; set; }

        [VectorStoreData]
        public int Group { get; set; }

        [VectorStoreVector(8, DistanceFunction = DistanceFunction.CosineSimilarity, IndexKind = IndexKind.Hnsw)]
        public float[]? Approximate { get; set; }

        [VectorStoreVector(8, DistanceFunction = DistanceFunction.CosineSimilarity)]
        public float[]? Exact { get; set; }
    }

    public sealed class Other
    {
        [VectorStoreKey]
        public long Id { get; set; }

        [VectorStoreVector(3)]
        public float[]? Vector { get; set; }
    }

    private static float[][] Vectors(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, 8).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
    }

    private async Task<VectorStoreCollection<long, Point>> Points(FolderVectorStore store, float[][] vectors)
    {
        var points = store.GetCollection<long, Point>("points");
        await points.EnsureCollectionExistsAsync();
        await points.UpsertAsync(vectors.Select((v, i) => new Point { Id = i, Group = i % 10, Approximate = v, Exact = v }));
        return points;
    }

    [Fact]
    public async Task Hnsw_search_filtered_or_not_mostly_finds_what_exact_search_finds()
    {
        using var store = new FolderVectorStore(_folder.Path);
        var vectors = Vectors(3000, 1);
        var points = await Points(store, vectors);
        int agree = 0, agreeFiltered = 0, agreeRare = 0;
        foreach (var query in Vectors(50, 2))
        {
            async Task<long[]> Ids(string property, Func<Point, bool>? filter)
            {
                var options = new VectorSearchOptions<Point> { VectorProperty = property == "exact" ? p => p.Exact : p => p.Approximate };
                if (filter is not null)
                    options.Filter = p => filter(p);
                return (await points.SearchAsync(query, 10, options).ToListAsync()).Select(r => r.Record.Id).ToArray();
            }

            agree += (await Ids("hnsw", null)).Intersect(await Ids("exact", null)).Count();
            var filtered = await Ids("hnsw", p => p.Group == 3);
            filtered.Should().OnlyContain(id => id % 10 == 3);
            agreeFiltered += filtered.Intersect(await Ids("exact", p => p.Group == 3)).Count();
            // One record in 300 passes: HNSW gives up over-fetching and scans those exactly.
            var rare = await Ids("hnsw", p => p.Id % 300 == 7);
            rare.Should().Equal(await Ids("exact", p => p.Id % 300 == 7));
            agreeRare += rare.Length;
        }

        agree.Should().BeGreaterThan(450, "recall@10 over 50 queries above 0.9");
        agreeFiltered.Should().BeGreaterThan(450);
        agreeRare.Should().Be(500);
    }

    [Theory]
    [InlineData(DistanceFunction.CosineSimilarity)]
    [InlineData(DistanceFunction.CosineDistance)]
    [InlineData(DistanceFunction.DotProductSimilarity)]
    [InlineData(DistanceFunction.NegativeDotProductSimilarity)]
    [InlineData(DistanceFunction.EuclideanDistance)]
    [InlineData(DistanceFunction.EuclideanSquaredDistance)]
    public async Task Both_index_kinds_score_as_the_abstraction_defines_each_distance_function(string function)
    {
        static double Expected(string function, float[] a, float[] b)
        {
            double dot = a.Zip(b, (x, y) => (double)x * y).Sum(), na = Math.Sqrt(a.Sum(x => (double)x * x)), nb = Math.Sqrt(b.Sum(x => (double)x * x));
            double squared = a.Zip(b, (x, y) => ((double)x - y) * ((double)x - y)).Sum();
            return function switch
            {
                DistanceFunction.CosineSimilarity => dot / (na * nb),
                DistanceFunction.CosineDistance => 1 - dot / (na * nb),
                DistanceFunction.DotProductSimilarity => dot,
                DistanceFunction.NegativeDotProductSimilarity => -dot,
                DistanceFunction.EuclideanDistance => Math.Sqrt(squared),
                _ => squared,
            };
        }

        bool descending = function is DistanceFunction.CosineSimilarity or DistanceFunction.DotProductSimilarity;
        using var store = new FolderVectorStore(_folder.Path);
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            {
                new VectorStoreKeyProperty("Id", typeof(long)),
                new VectorStoreVectorProperty("Graph", typeof(float[]), 8) { DistanceFunction = function, IndexKind = IndexKind.Hnsw },
                new VectorStoreVectorProperty("Scan", typeof(float[]), 8) { DistanceFunction = function, IndexKind = IndexKind.Flat },
            },
        };
        var collection = store.GetDynamicCollection("scores", definition);
        await collection.EnsureCollectionExistsAsync();
        var vectors = Vectors(400, 8);
        await collection.UpsertAsync(vectors.Select((v, i) => new System.Collections.Generic.Dictionary<string, object?> { ["Id"] = (long)i, ["Graph"] = v, ["Scan"] = v }));
        float[] query = Vectors(1, 9)[0];
        var ranked = vectors.Select((v, i) => (Id: (long)i, Score: Expected(function, query, v)));
        ranked = descending ? ranked.OrderByDescending(e => e.Score) : ranked.OrderBy(e => e.Score);
        var rare = ranked.Where(e => e.Id % 100 == 1).Take(3).ToArray();

        foreach (string property in new[] { "Graph", "Scan" })
        {
            var all = await collection.SearchAsync(query, 5, new VectorSearchOptions<System.Collections.Generic.Dictionary<string, object?>> { VectorProperty = r => r[property] }).ToListAsync();
            var few = await collection.SearchAsync(query, 3, new VectorSearchOptions<System.Collections.Generic.Dictionary<string, object?>>
            {
                VectorProperty = r => r[property],
                Filter = r => (long)r["Id"]! % 100 == 1,
            }).ToListAsync();

            // Each score is the function's value for the record found; HNSW may miss a true neighbour (its build is multithreaded), the scan may not.
            all.Select(r => r.Score!.Value).Should().Equal(all.Select(r => Expected(function, query, vectors[(long)r.Record["Id"]!])), (a, b) => Math.Abs(a - b) < 1e-4, property);
            if (property == "Scan")
                all.Select(r => (long)r.Record["Id"]!).Should().Equal(ranked.Take(5).Select(e => e.Id), property);
            else
                all.Select(r => (long)r.Record["Id"]!).Intersect(ranked.Take(5).Select(e => e.Id)).Should().HaveCountGreaterThanOrEqualTo(4, property);
            few.Select(r => (long)r.Record["Id"]!).Should().Equal(rare.Select(e => e.Id), property);
            few.Select(r => r.Score!.Value).Should().Equal(rare.Select(e => e.Score), (a, b) => Math.Abs(a - b) < 1e-4, property);
        }
    }

    [Fact]
    public async Task A_damaged_line_is_refused_naming_the_file_and_line_and_a_torn_last_line_is_dropped()
    {
        var vectors = Vectors(5, 3);
        using (var store = new FolderVectorStore(_folder.Path))
        {
            var points = store.GetCollection<long, Point>("points");
            await points.EnsureCollectionExistsAsync();
            for (int i = 0; i < vectors.Length; i++)
                await points.UpsertAsync(new Point { Id = i, Group = i, Approximate = vectors[i], Exact = vectors[i] }); // a line each
        }

        string log = Path.Combine(_folder.Path, "points", "records.jsonl");
        string[] lines = File.ReadAllLines(log);

        File.AppendAllText(log, lines[0][..20]);
        using (var store = new FolderVectorStore(_folder.Path))
        {
            var points = store.GetCollection<long, Point>("points");
            (await points.GetAsync(p => true, 10).ToListAsync()).Should().HaveCount(5);
            await points.UpsertAsync(new Point { Id = 9, Exact = vectors[0], Approximate = vectors[0] });
        }

        File.ReadAllLines(log).Should().HaveCount(6, "the torn line was cut off before the next write");
        lines[2] = lines[2].Replace("\"d\"", "\"x\"");
        File.WriteAllLines(log, lines);
        using var damaged = new FolderVectorStore(_folder.Path);
        await damaged.GetCollection<long, Point>("points").Invoking(c => c.GetAsync(1))
            .Should().ThrowAsync<InvalidDataException>().WithMessage($"*{log}*line 3*");
    }

    [Fact]
    public async Task A_collection_is_refused_to_records_mapped_otherwise_and_names_are_checked()
    {
        using (var store = new FolderVectorStore(_folder.Path))
            await Points(store, Vectors(3, 4));

        using var reopened = new FolderVectorStore(_folder.Path);
        await reopened.GetCollection<long, Other>("points").Invoking(c => c.GetAsync(1)).Should().ThrowAsync<InvalidOperationException>().WithMessage("*points*mapped*");
        reopened.Invoking(s => s.GetCollection<long, Point>("../escape")).Should().Throw<ArgumentException>().WithMessage("*../escape*");
    }

    [Fact]
    public async Task A_second_store_on_the_same_folder_is_refused_naming_the_file()
    {
        using var first = new FolderVectorStore(_folder.Path);
        await Points(first, Vectors(3, 6));
        using var second = new FolderVectorStore(_folder.Path);

        await second.GetCollection<long, Point>("points").Invoking(c => c.GetAsync(1))
            .Should().ThrowAsync<InvalidOperationException>().WithMessage($"*{Path.Combine(_folder.Path, "points", "records.jsonl")}*one FolderVectorStore at a time*");
    }

    [Fact]
    public void A_mapping_the_store_cannot_serve_is_refused_before_anything_is_written()
    {
        using var store = new FolderVectorStore(_folder.Path);
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            {
                new VectorStoreKeyProperty("Id", typeof(long)),
                new VectorStoreVectorProperty("Vector", typeof(float[]), 4) { DistanceFunction = DistanceFunction.ManhattanDistance, IndexKind = IndexKind.Hnsw },
            },
        };

        store.Invoking(s => s.GetDynamicCollection("manhattan", definition)).Should().Throw<NotSupportedException>().WithMessage("*Vector*HNSW*");
        Directory.Exists(Path.Combine(_folder.Path, "manhattan")).Should().BeFalse();
    }

    [Fact]
    public async Task Replacements_are_compacted_and_the_records_stay_the_last_written()
    {
        using (var store = new FolderVectorStore(_folder.Path))
        {
            var points = store.GetCollection<long, Point>("points");
            await points.EnsureCollectionExistsAsync();
            var vectors = Vectors(10, 5);
            for (int round = 0; round < 300; round++)
            {
                await points.UpsertAsync(vectors.Select((v, i) => new Point { Id = i, Group = round, Exact = v, Approximate = v }));
                await points.UpsertAsync(vectors.Select((v, i) => new Point { Id = 100 + i, Group = round, Exact = v, Approximate = v }));
                await points.DeleteAsync(Enumerable.Range(100, 10).Select(i => (long)i));
            }
        }

        File.ReadAllLines(Path.Combine(_folder.Path, "points", "records.jsonl")).Length.Should().BeLessThan(2 * 10 + 1024 + 3);
        using var reopened = new FolderVectorStore(_folder.Path);
        var all = await reopened.GetCollection<long, Point>("points").GetAsync(p => true, 100).ToListAsync();
        all.Should().HaveCount(10).And.OnlyContain(p => p.Group == 299 && p.Id < 10);
    }

    [Fact]
    public async Task The_models_distance_is_the_default_and_di_gives_the_store_the_models_generator()
    {
        var services = new ServiceCollection()
            .AddSingleton<IEmbeddingGenerator<float[], Embedding<float>>>(new Doubling())
            .AddFolderVectorStore(_folder.Path, (_, options) => options.Distance = EmbeddingDistance.Create("EuclideanDistance"));
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<VectorStore>();
        var collection = store.GetCollection<long, Measured>("measured");
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(new[] { new Measured { Id = 1, Input = new ModelInput(new float[] { 0, 0 }) }, new Measured { Id = 2, Input = new ModelInput(new float[] { 3, 4 }) } });

        var found = await collection.SearchAsync(new ModelInput(new float[] { 3, 4 }), 2).ToListAsync();

        found.Select(r => r.Record.Id).Should().Equal(2, 1);
        found[1].Score!.Value.Should().BeApproximately(10, 1e-5, "the generator doubles (6, 8), and the model's Euclidean distance to (0, 0) is 10");
    }

    public sealed class Measured
    {
        [VectorStoreKey]
        public long Id { get; set; }

        [VectorStoreVector(2)]
        public ModelInput? Input { get; set; }
    }

    /// <summary>A generator of float[] inputs, as MetricLearning's are: each input doubled.</summary>
    private sealed class Doubling : IEmbeddingGenerator<float[], Embedding<float>>
    {
        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(System.Collections.Generic.IEnumerable<float[]> values, EmbeddingGenerationOptions? options = null, System.Threading.CancellationToken cancellationToken = default) =>
            Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(values.Select(v => new Embedding<float>(v.Select(x => 2 * x).ToArray()))));

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
