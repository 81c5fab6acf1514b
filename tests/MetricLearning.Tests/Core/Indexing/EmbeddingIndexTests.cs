using System;
using System.IO;
using System.Linq;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Indexing;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Indexing;

public sealed class EmbeddingIndexTests
{
    private static Tensor Points(params float[] xs) => tensor(xs, new long[] { xs.Length, 1 });

    [Fact]
    public void Search_returns_the_nearest_items_nearest_first()
    {
        using var index = new EmbeddingIndex(new LpDistance(2));
        using var points = Points(0, 1, 2, 10);
        index.Add(points, new[] { 7, 7, 8, 9 });
        using var queries = Points(1.9f, 9f);

        var matches = index.Search(queries, k: 2);

        // 1.9: nearest 2 (0.1), then 1 (0.9). 9: nearest 10 (1), then 2 (7).
        matches.Indices[0].Should().Equal(2, 1);
        matches.Labels[0].Should().Equal(8, 7);
        matches.Scores[0].Should().Equal(new[] { 0.1f, 0.9f }, (a, b) => Math.Abs(a - b) < 1e-5f);
        matches.Indices[1].Should().Equal(3, 2);
        matches.Scores[1].Should().Equal(new[] { 1f, 7f }, (a, b) => Math.Abs(a - b) < 1e-5f);
    }

    [Fact]
    public void A_similarity_index_returns_the_most_similar_first()
    {
        using var index = new EmbeddingIndex(new CosineSimilarity());
        using var rows = Tensors.Rows(new[] { 1f, 0f }, new[] { 0f, 1f }, new[] { 1f, 1f });
        index.Add(rows, new[] { 0, 1, 2 });
        using var query = Tensors.Rows(new[] { 1f, 0.1f });

        index.Search(query, k: 3).Indices[0].Should().Equal(0, 2, 1);
    }

    [Fact]
    public void Added_items_are_found_and_search_works_in_small_chunks()
    {
        using var index = new EmbeddingIndex(new LpDistance(2));
        using var first = Points(0, 1);
        using var more = Points(5, 6);
        index.Add(first, new[] { 0, 0 });
        index.Add(more, new[] { 1, 1 });
        using var queries = Points(5.2f, 0.2f, 6.1f);

        var matches = index.Search(queries, k: 1, chunkBytes: 4);

        index.Count.Should().Be(4);
        matches.Indices.Should().HaveCount(3);
        matches.Indices[0].Should().Equal(2);
        matches.Indices[1].Should().Equal(0);
        matches.Indices[2].Should().Equal(3);
    }

    [Fact]
    public void Saved_indexes_load_back_identically()
    {
        using var folder = new TempFolder();
        string path = folder.File(Path.Combine("indexes", "mnist.index"));
        using var index = new EmbeddingIndex(new CosineSimilarity());
        using var rows = randn(20, 5);
        index.Add(rows, new int[20].Select((_, i) => i % 3).ToArray());
        index.Save(path);

        using var loaded = EmbeddingIndex.Load(path, new CosineSimilarity());
        using var queries = randn(4, 5);

        loaded.Count.Should().Be(20);
        loaded.Labels.Should().Equal(index.Labels);
        loaded.Search(queries, 3).Indices.Should().BeEquivalentTo(index.Search(queries, 3).Indices, o => o.WithStrictOrdering());
        Directory.GetFiles(Path.GetDirectoryName(path)!).Should().Equal(path);
    }

    [Fact]
    public void An_index_restores_the_distance_it_was_saved_with()
    {
        using var folder = new TempFolder();
        string path = folder.File("lp.index");
        using (var index = new EmbeddingIndex(new LpDistance(3, normalize: true)))
        {
            using var rows = randn(4, 2);
            index.Add(rows, new[] { 0, 1, 2, 3 });
            index.Save(path);
        }

        using var loaded = EmbeddingIndex.Load(path);

        var distance = loaded.Distance.Should().BeOfType<LpDistance>().Subject;
        distance.P.Should().Be(3);
        distance.Normalize.Should().BeTrue();
    }

    [Fact]
    public void An_index_with_a_distance_of_the_users_own_loads_only_with_that_distance()
    {
        using var folder = new TempFolder();
        string path = folder.File("own.index");
        using (var index = new EmbeddingIndex(new Chebyshev()))
        {
            using var rows = randn(3, 2);
            index.Add(rows, new[] { 0, 1, 2 });
            index.Save(path);
        }

        var withoutIt = () => EmbeddingIndex.Load(path);
        using var withIt = EmbeddingIndex.Load(path, new Chebyshev());

        withoutIt.Should().Throw<InvalidDataException>().WithMessage("*Chebyshev*register a factory*");
        withIt.Count.Should().Be(3);
    }

    private sealed class Chebyshev : IDistance
    {
        public Tensor Compute(Tensor first, Tensor second) => (first - second).abs().amax(new long[] { 1 });

        public Tensor ComputeMatrix(Tensor queries, Tensor references) => (queries.unsqueeze(1) - references.unsqueeze(0)).abs().amax(new long[] { 2 });
    }

    [Fact]
    public void Loading_with_another_distance_or_a_damaged_file_is_refused()
    {
        using var folder = new TempFolder();
        string path = folder.File("a.index");
        using (var index = new EmbeddingIndex(new LpDistance(2)))
        {
            using var rows = randn(3, 2);
            index.Add(rows, new[] { 0, 1, 2 });
            index.Save(path);
        }

        var otherDistance = () => EmbeddingIndex.Load(path, new CosineSimilarity());
        otherDistance.Should().Throw<InvalidDataException>().WithMessage("*LpDistance(normalize=0, p=2)*CosineSimilarity*");
        var otherSettings = () => EmbeddingIndex.Load(path, new LpDistance(1));
        otherSettings.Should().Throw<InvalidDataException>().WithMessage("*saved for LpDistance(normalize=0, p=2)*searched with LpDistance(normalize=0, p=1)*");

        File.WriteAllBytes(path, File.ReadAllBytes(path)[..^4]);
        var truncated = () => EmbeddingIndex.Load(path, new LpDistance(2));
        truncated.Should().Throw<InvalidDataException>().WithMessage($"*{path}*bytes*");

        File.WriteAllText(path, "hello, world");
        var notAnIndex = () => EmbeddingIndex.Load(path, new LpDistance(2));
        notAnIndex.Should().Throw<InvalidDataException>().WithMessage("*not a MetricLearning embedding index*");
    }

    [Fact]
    public void Bad_searches_are_refused()
    {
        using var index = new EmbeddingIndex(new LpDistance(2));
        using var queries = Points(1);

        var empty = () => index.Search(queries, 1);
        empty.Should().Throw<InvalidOperationException>().WithMessage("*empty*");

        using var points = Points(0, 1);
        index.Add(points, new[] { 0, 1 });
        var tooMany = () => index.Search(queries, 3);
        tooMany.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k");

        using var wide = Tensors.Rows(new[] { 1f, 2f });
        var wrongWidth = () => index.Search(wide, 1);
        wrongWidth.Should().Throw<ArgumentException>().WithMessage("*same embedding size*");
    }

    [Fact]
    public void Many_plain_queries_at_once_answer_as_one_at_a_time_through_the_index_seam()
    {
        MetricLearning.Indexing.INeighbourIndex index = new EmbeddingIndex(new MetricLearning.Distances.LpDistance(2));
        using var owned = index;
        ((EmbeddingIndex)index).Add(new[] { new[] { 0f, 0f }, new[] { 1f, 0f }, new[] { 5f, 5f } }, new[] { 7, 8, 7 });
        var queries = new[] { new[] { 0.9f, 0f }, new[] { 4f, 4f } };

        var batch = index.Search(queries, 2);

        batch.Select(b => b.ToArray()).Should().BeEquivalentTo(queries.Select(q => index.Search(q, 2).ToArray()), o => o.WithStrictOrdering());
        batch[0].Select(n => n.Key).Should().Equal(1L, 0L);
        batch[1][0].Should().Be(new MetricLearning.Indexing.Neighbour(2, (float)Math.Sqrt(2), 7));
        index.ScoresAreSimilarities.Should().BeFalse();
        index.CountLabels().Should().BeEquivalentTo(new System.Collections.Generic.Dictionary<int, int> { [7] = 2, [8] = 1 });
    }
}
