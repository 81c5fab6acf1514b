using System;
using System.IO;
using System.Linq;
using FluentAssertions;
using MetricLearning.Indexing;
using MetricLearning.Tests.TestSupport;
using Xunit;

namespace MetricLearning.Tests.Core.Indexing;

public sealed class ApproximateIndexTests
{
    private static float[][] Random(int count, int dimensions, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, dimensions).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
    }

    /// <summary>The exact top-k keys by brute force, computed here independently of the index.</summary>
    private static long[] ExactTop(float[][] vectors, float[] query, int k, IndexMetric metric)
    {
        double Score(float[] v) => metric switch
        {
            IndexMetric.Euclidean => -Math.Sqrt(v.Zip(query, (a, b) => (double)(a - b) * (a - b)).Sum()),
            IndexMetric.DotProduct => v.Zip(query, (a, b) => (double)a * b).Sum(),
            _ => v.Zip(query, (a, b) => (double)a * b).Sum() / Math.Sqrt(v.Sum(a => (double)a * a) * query.Sum(b => (double)b * b)),
        };
        return Enumerable.Range(0, vectors.Length).OrderByDescending(i => Score(vectors[i])).Take(k).Select(i => (long)i).ToArray();
    }

    [Theory]
    [InlineData(IndexMetric.Cosine)]
    [InlineData(IndexMetric.DotProduct)]
    [InlineData(IndexMetric.Euclidean)]
    public void Search_finds_most_of_the_exact_top_ten_with_labels_and_scores(IndexMetric metric)
    {
        var vectors = Random(3000, 16, 81);
        using var index = new ApproximateIndex(16, metric);
        index.Add(Enumerable.Range(0, vectors.Length).Select(i => (long)i).ToArray(), vectors, Enumerable.Range(0, vectors.Length).Select(i => i % 7).ToArray());
        var queries = Random(50, 16, 82);

        double recall = queries.Average(query => index.Search(query, 10).Select(m => m.Key).Intersect(ExactTop(vectors, query, 10, metric)).Count() / 10.0);

        recall.Should().BeGreaterThan(0.95);
        var best = index.Search(queries[0], 1)[0];
        best.Label.Should().Be((int)(best.Key % 7), "the label stored with the vector comes back");
        float expected = metric switch
        {
            IndexMetric.Euclidean => (float)Math.Sqrt(vectors[best.Key].Zip(queries[0], (a, b) => (double)(a - b) * (a - b)).Sum()),
            IndexMetric.DotProduct => (float)vectors[best.Key].Zip(queries[0], (a, b) => (double)a * b).Sum(),
            _ => (float)(vectors[best.Key].Zip(queries[0], (a, b) => (double)a * b).Sum() / Math.Sqrt(vectors[best.Key].Sum(a => (double)a * a) * queries[0].Sum(b => (double)b * b))),
        };
        best.Score.Should().BeApproximately(expected, 1e-3f, "scores are similarities or distances, not USearch's internal form");
    }

    [Fact]
    public void Removed_vectors_are_not_found_and_keys_must_be_unique()
    {
        var vectors = Random(200, 8, 83);
        using var index = new ApproximateIndex(8, IndexMetric.Euclidean);
        index.Add(Enumerable.Range(0, 200).Select(i => (long)i).ToArray(), vectors, new int[200]);

        index.Search(vectors[5], 1)[0].Key.Should().Be(5L);
        index.Remove(5).Should().BeTrue();
        index.Remove(5).Should().BeFalse();
        index.Search(vectors[5], 1)[0].Key.Should().NotBe(5L);
        index.Count.Should().Be(199);
        index.Invoking(i => i.Add(new long[] { 7 }, new[] { vectors[0] }, new[] { 1 })).Should().Throw<ArgumentException>().WithMessage("*Key 7*unique*");
        index.Invoking(i => i.Search(new float[3], 1)).Should().Throw<ArgumentException>().WithMessage("*3 values*8-dimensional*");
    }

    [Fact]
    public void A_saved_index_loads_back_with_the_same_answers_and_foreign_or_damaged_files_are_refused_naming_them()
    {
        using var folder = new TempFolder();
        string path = folder.File("index.ann");
        var vectors = Random(500, 12, 84);
        var queries = Random(20, 12, 85);
        Neighbour[][] before;
        using (var index = new ApproximateIndex(12, IndexMetric.Cosine))
        {
            index.Add(Enumerable.Range(0, 500).Select(i => (long)(1000 + i)).ToArray(), vectors, Enumerable.Range(0, 500).Select(i => i % 4).ToArray());
            index.Remove(1003);
            before = queries.Select(q => index.Search(q, 5).ToArray()).ToArray();
            index.Save(path);
        }

        using (var loaded = ApproximateIndex.Load(path, IndexMetric.Cosine, 12))
        {
            loaded.Count.Should().Be(499);
            queries.Select(q => loaded.Search(q, 5).ToArray()).Should().BeEquivalentTo(before, o => o.WithStrictOrdering());
        }

        var otherMetric = () => ApproximateIndex.Load(path, IndexMetric.Euclidean, 12);
        otherMetric.Should().Throw<InvalidDataException>().WithMessage($"*'{path}'*12-dimensional vectors compared by Cosine*Euclidean*");
        var otherWidth = () => ApproximateIndex.Load(path, IndexMetric.Cosine, 16);
        otherWidth.Should().Throw<InvalidDataException>().WithMessage("*12-dimensional*16 dimensions*");
        byte[] bytes = File.ReadAllBytes(path);
        foreach (var damaged in new[] { bytes[..(bytes.Length / 2)], bytes.Select((b, i) => i == bytes.Length / 3 ? (byte)(b ^ 1) : b).ToArray(), new byte[5] })
        {
            File.WriteAllBytes(path, damaged);
            var act = () => ApproximateIndex.Load(path, IndexMetric.Cosine, 12);
            act.Should().Throw<InvalidDataException>().WithMessage($"*'{path}'*");
        }

        Directory.GetFiles(folder.Path).Should().ContainSingle("no temporary files are left");
    }

    [Fact]
    public void Many_queries_at_once_answer_as_one_at_a_time_and_the_search_breadth_can_change_on_a_built_index()
    {
        var vectors = Random(2000, 16, 86);
        var queries = Random(40, 16, 87);
        using var index = new ApproximateIndex(16, IndexMetric.Cosine, new ApproximateIndexOptions { Threads = 2 });
        index.Add(Enumerable.Range(0, vectors.Length).Select(i => (long)i).ToArray(), vectors, new int[vectors.Length]);

        index.SearchBreadth = 8;
        double narrow = queries.Average(q => index.Search(q, 10).Select(m => m.Key).Intersect(ExactTop(vectors, q, 10, IndexMetric.Cosine)).Count() / 10.0);
        index.SearchBreadth = 512;
        var batch = index.Search(queries, 10);
        double wide = queries.Select((q, i) => batch[i].Select(m => m.Key).Intersect(ExactTop(vectors, q, 10, IndexMetric.Cosine)).Count() / 10.0).Average();

        batch.Select(b => b.ToArray()).Should().BeEquivalentTo(queries.Select(q => index.Search(q, 10).ToArray()), o => o.WithStrictOrdering());
        wide.Should().BeGreaterThan(narrow, "a broader search finds more of the true neighbours");
        wide.Should().BeGreaterThan(0.97);
        index.Options.SearchBreadth.Should().Be(512);
        index.Invoking(i => i.SearchBreadth = 0).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*SearchBreadth*");
        index.Invoking(i => i.Search(queries[0], 2001)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*2000 indexed vectors*");
    }

    [Fact]
    public void A_bad_key_adds_nothing_and_an_empty_index_refuses_searches()
    {
        var vectors = Random(3, 4, 88);
        using var index = new ApproximateIndex(4, IndexMetric.Euclidean);

        index.Invoking(i => i.Search(vectors[0], 1)).Should().Throw<InvalidOperationException>().WithMessage("*empty*");
        index.Invoking(i => i.Add(new long[] { 1, -2, 3 }, vectors, new int[3])).Should().Throw<ArgumentException>().WithMessage("*Key -2 is negative*");
        index.Invoking(i => i.Add(new long[] { 1, 2, 3 }, new[] { vectors[0], new[] { 1f, float.NaN, 0, 0 }, vectors[2] }, new int[3])).Should().Throw<ArgumentException>().WithMessage("*vectors[1]*NaN*");
        index.Count.Should().Be(0);
        index.Add(new long[] { 1, 2, 3 }, vectors, new[] { 4, 5, 4 });
        index.CountLabels().Should().BeEquivalentTo(new System.Collections.Generic.Dictionary<int, int> { [4] = 2, [5] = 1 });
        index.MemoryBytes.Should().BeGreaterThan(3 * 4 * sizeof(float));
    }

    [Theory]
    [InlineData(IndexPrecision.Float16, 1e-2f)]
    [InlineData(IndexPrecision.Int8, 5e-2f)]
    public void Less_precise_storage_finds_neighbours_with_approximate_scores_and_is_saved(IndexPrecision precision, float scoreTolerance)
    {
        using var folder = new TempFolder();
        var vectors = Random(2000, 16, 89);
        var queries = Random(30, 16, 90);
        using var index = new ApproximateIndex(16, IndexMetric.Cosine, new ApproximateIndexOptions { Precision = precision });
        index.Add(Enumerable.Range(0, vectors.Length).Select(i => (long)i).ToArray(), vectors, new int[vectors.Length]);

        double recall = queries.Average(q => index.Search(q, 10).Select(m => m.Key).Intersect(ExactTop(vectors, q, 10, IndexMetric.Cosine)).Count() / 10.0);
        var best = index.Search(queries[0], 1)[0];
        double exactScore = vectors[best.Key].Zip(queries[0], (a, b) => (double)a * b).Sum() / Math.Sqrt(vectors[best.Key].Sum(a => (double)a * a) * queries[0].Sum(b => (double)b * b));
        index.Save(folder.File("index.ann"));
        using var loaded = ApproximateIndex.Load(folder.File("index.ann"), IndexMetric.Cosine, 16);

        recall.Should().BeGreaterThan(0.8);
        best.Score.Should().BeApproximately((float)exactScore, scoreTolerance);
        loaded.Options.Precision.Should().Be(precision);
        loaded.Search(queries[0], 1)[0].Should().Be(best);
    }

    [Fact]
    public void Int8_storage_is_for_cosine_only()
    {
        var act = () => new ApproximateIndex(8, IndexMetric.Euclidean, new ApproximateIndexOptions { Precision = IndexPrecision.Int8 });

        act.Should().Throw<ArgumentException>().WithMessage("*Int8*Cosine*not Euclidean*");
    }

    [Fact]
    public void An_index_with_many_removals_loads_grows_and_searches_and_a_header_that_disagrees_with_its_graph_is_refused()
    {
        using var folder = new TempFolder();
        var vectors = Random(1200, 8, 91);
        using (var index = new ApproximateIndex(8, IndexMetric.Euclidean))
        {
            index.Add(Enumerable.Range(0, 1000).Select(i => (long)i).ToArray(), vectors[..1000], new int[1000]);
            for (long key = 0; key < 800; key++)
                index.Remove(key);
            index.Save(folder.File("index.ann"));
        }

        using (var loaded = ApproximateIndex.Load(folder.File("index.ann"), IndexMetric.Euclidean, 8))
        {
            loaded.Count.Should().Be(200);
            loaded.Add(Enumerable.Range(1000, 200).Select(i => (long)i).ToArray(), vectors[1000..], new int[200]);
            loaded.Count.Should().Be(400);
            loaded.Search(vectors[1100], 1)[0].Key.Should().Be(1100);
            loaded.Search(vectors[900], 1)[0].Key.Should().Be(900);
        }

        var wrongThreads = () => ApproximateIndex.Load(folder.File("index.ann"), IndexMetric.Euclidean, 8, threads: 2000);
        wrongThreads.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*threads*");
    }
}
