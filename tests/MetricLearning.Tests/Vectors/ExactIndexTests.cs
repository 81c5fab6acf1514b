using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Indexing;
using MetricLearning.Tests.TestSupport;
using Xunit;

namespace MetricLearning.Tests.Vectors;

public sealed class ExactIndexTests
{
    public static TheoryData<string, double?, double?> Distances => new()
    {
        { "EuclideanDistance", null, null },
        { "SquaredEuclideanDistance", null, null },
        { "SquaredEuclideanDistance", null, 1 },
        { "LpDistance", 3, 1 },
        { "CosineDistance", null, null },
        { "CosineSimilarity", null, null },
        { "DotProductSimilarity", null, null },
        { "DotProductSimilarity", null, 1 },
    };

    private static float[][] Random(int count, int width, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, width).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
    }

    private static EmbeddingDistance Distance(string name, double? p, double? normalize)
    {
        var settings = new Dictionary<string, double>();
        if (p is not null)
            settings["p"] = p.Value;
        if (normalize is not null)
            settings["normalize"] = normalize.Value;
        return EmbeddingDistance.Create(name, settings);
    }

    [Theory]
    [MemberData(nameof(Distances))]
    public void Finds_what_a_float64_scan_with_the_distance_finds(string name, double? p, double? normalize)
    {
        var distance = Distance(name, p, normalize);
        var vectors = Random(400, 12, seed: 1);
        long[] keys = Enumerable.Range(0, vectors.Length).Select(i => 1000L + 3 * i).ToArray();
        using var index = new ExactIndex(distance, 12);
        index.Add(keys, vectors, keys.Select(key => (int)(key % 5)).ToArray());

        foreach (var query in Random(15, 12, seed: 2))
        {
            var expected = keys.Select((key, i) => (Key: key, Score: distance.Compute(query, vectors[i])))
                .OrderBy(entry => distance.IsSimilarity ? -entry.Score : entry.Score).Take(8).ToArray();

            var found = index.Search(query, 8);

            found.Select(neighbour => neighbour.Key).Should().Equal(expected.Select(entry => entry.Key), name);
            found.Select(neighbour => (double)neighbour.Score).Should().Equal(expected.Select(entry => entry.Score), (a, b) => Math.Abs(a - b) <= 1e-5 * Math.Max(1, Math.Abs(b)));
            found.Select(neighbour => neighbour.Label).Should().Equal(expected.Select(entry => (int)(entry.Key % 5)));
        }
    }

    [Fact]
    public void Reads_the_files_the_tensor_index_writes_and_writes_files_it_reads()
    {
        using var folder = new TempFolder();
        var vectors = Random(50, 6, seed: 3);
        int[] labels = Enumerable.Range(0, 50).Select(i => i % 4).ToArray();
        using (var tensorIndex = new EmbeddingIndex(new MetricLearning.Distances.EuclideanDistance()))
        {
            tensorIndex.Add(vectors, labels);
            tensorIndex.Save(folder.File("torch.index"));
        }

        var queries = Random(5, 6, seed: 4);
        using var managed = ExactIndex.Load(folder.File("torch.index"));
        managed.Distance.Name.Should().Be("EuclideanDistance");
        managed.Keys.Should().Equal(Enumerable.Range(0, 50).Select(i => (long)i));
        managed.Save(folder.File("managed.index"));
        using var reread = EmbeddingIndex.Load(folder.File("managed.index"));
        using var tensorAgain = EmbeddingIndex.Load(folder.File("torch.index"));

        var byTensor = tensorAgain.Search(queries, 5);
        managed.Search(queries, 5).Select(row => row.Select(n => (n.Key, n.Label))).Should().BeEquivalentTo(
            byTensor.Select(row => row.Select(n => (n.Key, n.Label))), options => options.WithStrictOrdering());
        reread.Search(queries, 5).Select(row => row.Select(n => n.Key)).Should().BeEquivalentTo(
            byTensor.Select(row => row.Select(n => n.Key)), options => options.WithStrictOrdering());
    }

    [Fact]
    public void Keeps_its_keys_through_a_file_that_the_tensor_index_refuses_by_name()
    {
        using var folder = new TempFolder();
        string path = folder.File("keyed.index");
        var vectors = Random(20, 3, seed: 5);
        long[] keys = Enumerable.Range(0, 20).Select(i => -50L + 11 * i).ToArray();
        using (var index = new ExactIndex(EmbeddingDistance.Create("CosineSimilarity"), 3))
        {
            index.Add(keys, vectors, Enumerable.Range(0, 20).ToArray());
            index.Remove(keys[4]).Should().BeTrue();
            index.Save(path);
        }

        using var loaded = ExactIndex.Load(path);
        loaded.Keys.Should().Equal(keys.Where(key => key != keys[4]));
        loaded.TryGet(keys[7], out var vector, out int label).Should().BeTrue();
        vector.Should().Equal(vectors[7]);
        label.Should().Be(7);
        var refuse = () => EmbeddingIndex.Load(path);
        refuse.Should().Throw<InvalidDataException>().WithMessage($"*{path}*");
    }

    [Fact]
    public void Upsert_replaces_and_remove_takes_out()
    {
        using var index = new ExactIndex(EmbeddingDistance.Create("EuclideanDistance", new Dictionary<string, double> { ["floor"] = 0 }), 2);
        index.Add(new long[] { 1, 2, 3 }, new[] { new[] { 0f, 0 }, new[] { 1f, 0 }, new[] { 5f, 5 } }, new[] { 10, 20, 30 });

        index.Upsert(new long[] { 3, 4 }, new[] { new[] { 0.1f, 0 }, new[] { 9f, 9 } }, new[] { 31, 40 });
        index.Remove(1).Should().BeTrue();
        index.Remove(1).Should().BeFalse();

        index.Count.Should().Be(3);
        var found = index.Search(new[] { 0f, 0 }, 3);
        found.Select(n => n.Key).Should().Equal(3, 2, 4);
        found.Select(n => n.Label).Should().Equal(31, 20, 40);
        found[0].Score.Should().BeApproximately(0.1f, 1e-6f);
        index.Contains(1).Should().BeFalse();
        index.Contains(4).Should().BeTrue();
    }

    [Fact]
    public void A_filtered_search_returns_only_what_the_filter_lets_through_and_may_return_fewer()
    {
        var vectors = Random(100, 4, seed: 6);
        using var index = new ExactIndex(EmbeddingDistance.Create("CosineSimilarity"), 4);
        index.Add(Enumerable.Range(0, 100).Select(i => (long)i).ToArray(), vectors);
        var query = vectors[42];

        var even = index.Search(query, 10, key => key % 2 == 0);
        var few = index.Search(query, 10, key => key is 3 or 42 or 99);

        even.Should().HaveCount(10).And.OnlyContain(n => n.Key % 2 == 0);
        even[0].Key.Should().Be(42);
        even.Select(n => n.Score).Should().BeInDescendingOrder();
        few.Select(n => n.Key).Should().HaveCount(3).And.StartWith(42L);
        index.Search(query, 5, _ => false).Should().BeEmpty();
        using var empty = new ExactIndex(EmbeddingDistance.Create("CosineSimilarity"), 4);
        empty.Search(query, 5, null).Should().BeEmpty();
    }

    [Fact]
    public void Bad_input_is_refused_naming_what_was_wrong_and_changes_nothing()
    {
        using var index = new ExactIndex(EmbeddingDistance.Create("CosineSimilarity"), 3);
        index.Add(new long[] { 1 }, new[] { new[] { 1f, 0, 0 } });

        index.Invoking(i => i.Add(new long[] { 2, 3 }, new[] { new[] { 1f, 0, 0 }, new[] { 1f, 0 } })).Should().Throw<ArgumentException>().WithMessage("*vectors[1]*2 values*3-d*");
        index.Invoking(i => i.Add(new long[] { 2 }, new[] { new[] { 1f, float.NaN, 0 } })).Should().Throw<ArgumentException>().WithMessage("*NaN*position 1*");
        index.Invoking(i => i.Add(new long[] { 1 }, new[] { new[] { 1f, 0, 0 } })).Should().Throw<ArgumentException>().WithMessage("*Key 1*already*Upsert*");
        index.Invoking(i => i.Upsert(new long[] { 5, 5 }, new[] { new[] { 1f, 0, 0 }, new[] { 0f, 1, 0 } })).Should().Throw<ArgumentException>().WithMessage("*Key 5*twice*");
        index.Invoking(i => i.Search(new[] { 1f, 0 }, 1)).Should().Throw<ArgumentException>().WithMessage("*query*2 values*");
        index.Invoking(i => i.Search(new[] { 1f, 0, 0 }, 2)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*between 1 and the 1*");
        index.Count.Should().Be(1);
        var unknown = () => EmbeddingDistance.Create("ChebyshevDistance");
        unknown.Should().Throw<ArgumentException>().WithMessage("*ChebyshevDistance*CosineSimilarity*");
        var badSetting = () => EmbeddingDistance.Create("LpDistance", new Dictionary<string, double> { ["q"] = 2 });
        badSetting.Should().Throw<ArgumentException>().WithMessage("*no setting 'q'*");
    }

    [Fact]
    public void Eight_threads_writing_and_searching_lose_nothing()
    {
        using var index = new ExactIndex(EmbeddingDistance.Create("SquaredEuclideanDistance"), 8);
        var vectors = Random(8 * 200, 8, seed: 7);

        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, writer =>
        {
            for (int i = 0; i < 200; i++)
            {
                long key = writer * 200 + i;
                index.Upsert(new[] { key }, new[] { vectors[key] });
                if (i % 10 == 9)
                    index.Remove(key - 1).Should().BeTrue();
                var found = index.Search(vectors[key], 1, null);
                found[0].Key.Should().Be(key, "a vector is its own nearest neighbour");
            }
        });

        index.Count.Should().Be(8 * 200 - 8 * 20);
        index.Keys.Should().NotContain(Enumerable.Range(0, 8 * 20).Select(i => (long)(i / 20 * 200 + i % 20 * 10 + 8)));
    }
}
