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
    private static ulong[] ExactTop(float[][] vectors, float[] query, int k, IndexMetric metric)
    {
        double Score(float[] v) => metric switch
        {
            IndexMetric.Euclidean => -Math.Sqrt(v.Zip(query, (a, b) => (double)(a - b) * (a - b)).Sum()),
            IndexMetric.DotProduct => v.Zip(query, (a, b) => (double)a * b).Sum(),
            _ => v.Zip(query, (a, b) => (double)a * b).Sum() / Math.Sqrt(v.Sum(a => (double)a * a) * query.Sum(b => (double)b * b)),
        };
        return Enumerable.Range(0, vectors.Length).OrderByDescending(i => Score(vectors[i])).Take(k).Select(i => (ulong)i).ToArray();
    }

    [Theory]
    [InlineData(IndexMetric.Cosine)]
    [InlineData(IndexMetric.DotProduct)]
    [InlineData(IndexMetric.Euclidean)]
    public void Search_finds_most_of_the_exact_top_ten_with_labels_and_scores(IndexMetric metric)
    {
        var vectors = Random(3000, 16, 81);
        using var index = new ApproximateIndex(16, metric);
        index.Add(Enumerable.Range(0, vectors.Length).Select(i => (ulong)i).ToArray(), vectors, Enumerable.Range(0, vectors.Length).Select(i => i % 7).ToArray());
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
        index.Add(Enumerable.Range(0, 200).Select(i => (ulong)i).ToArray(), vectors, new int[200]);

        index.Search(vectors[5], 1)[0].Key.Should().Be(5UL);
        index.Remove(5).Should().BeTrue();
        index.Remove(5).Should().BeFalse();
        index.Search(vectors[5], 1)[0].Key.Should().NotBe(5UL);
        index.Count.Should().Be(199);
        index.Invoking(i => i.Add(new ulong[] { 7 }, new[] { vectors[0] }, new[] { 1 })).Should().Throw<ArgumentException>().WithMessage("*Key 7*unique*");
        index.Invoking(i => i.Search(new float[3], 1)).Should().Throw<ArgumentException>().WithMessage("*3 values*8-dimensional*");
    }

    [Fact]
    public void A_saved_index_loads_back_with_the_same_answers_and_foreign_or_damaged_files_are_refused_naming_them()
    {
        using var folder = new TempFolder();
        string path = folder.File("index.ann");
        var vectors = Random(500, 12, 84);
        var queries = Random(20, 12, 85);
        ApproximateMatch[][] before;
        using (var index = new ApproximateIndex(12, IndexMetric.Cosine))
        {
            index.Add(Enumerable.Range(0, 500).Select(i => (ulong)(1000 + i)).ToArray(), vectors, Enumerable.Range(0, 500).Select(i => i % 4).ToArray());
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
}
