using System;
using System.Linq;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Evaluation;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Evaluation;

public sealed class RetrievalEvaluatorTests
{
    private static Tensor Points(params float[] xs) => tensor(xs, new long[] { xs.Length, 1 });

    // References on a line: 0 and 1 are class 0; 2, 10 and 11 are class 1 (so R = 2 for class 0, 3 for class 1).
    // Queries, their three nearest references and the relevance of each:
    //   0.4 (class 0): 0, 1, 2     -> 1 1 0   P@1 1, R-precision 2/2, MAP@R (1 + 1)/2       = 1
    //   10.4 (class 1): 10, 11, 2  -> 1 1 1   P@1 1, R-precision 3/3, MAP@R (1 + 1 + 1)/3   = 1
    //   1.6 (class 1): 2, 1, 0     -> 1 0 0   P@1 1, R-precision 1/3, MAP@R (1)/3           = 1/3
    //   0.9 (class 1): 1, 0, 2     -> 0 0 1   P@1 0, R-precision 1/3, MAP@R (1/3)/3         = 1/9
    // Means: P@1 3/4, R-precision (1 + 1 + 1/3 + 1/3)/4 = 2/3, MAP@R (1 + 1 + 1/3 + 1/9)/4 = 11/18.
    [Theory]
    [InlineData(false, RetrievalEvaluator.DefaultChunkBytes)]
    [InlineData(false, 40L)] // two queries per chunk
    [InlineData(true, 20L)]  // one query per chunk, a similarity
    public void Metrics_match_the_values_worked_out_by_hand(bool similarity, long chunkBytes)
    {
        using var references = Points(0, 1, 2, 10, 11);
        using var queries = Points(0.4f, 10.4f, 1.6f, 0.9f);
        IDistance distance = similarity ? new NegatedLp() : new LpDistance(2);

        var metrics = RetrievalEvaluator.Evaluate(queries, new[] { 0, 1, 1, 1 }, references, new[] { 0, 0, 1, 1, 1 }, distance, chunkBytes: chunkBytes);

        metrics.QueryCount.Should().Be(4);
        metrics.PrecisionAt1.Should().BeApproximately(0.75, 1e-9);
        metrics.RPrecision.Should().BeApproximately(2.0 / 3, 1e-9);
        metrics.MapAtR.Should().BeApproximately(11.0 / 18, 1e-9);
    }

    // The references as queries, each leaving itself out (R = 1 for class 0, 2 for class 1):
    //   0 (0): 1.2, 2     -> 1 0   all 1        1.2 (0): 2, 0    -> 0 1   all 0
    //   2 (1): 1.2, 0     -> 0 0   all 0        10 (1): 11, 2    -> 1 1   all 1        11 (1): 10, 2 -> 1 1 all 1
    [Fact]
    public void A_query_is_not_its_own_neighbour_when_the_sets_are_one()
    {
        using var points = Points(0, 1.2f, 2, 10, 11);
        var labels = new[] { 0, 0, 1, 1, 1 };

        var metrics = RetrievalEvaluator.Evaluate(points, labels, points, labels, new LpDistance(2), queriesAreReferences: true);

        metrics.PrecisionAt1.Should().BeApproximately(0.6, 1e-9);
        metrics.RPrecision.Should().BeApproximately(0.6, 1e-9);
        metrics.MapAtR.Should().BeApproximately(0.6, 1e-9);
    }

    [Fact]
    public void Label_counts_that_do_not_match_the_rows_are_refused()
    {
        using var points = Points(0, 1);

        var act = () => RetrievalEvaluator.Evaluate(points, new[] { 0 }, points, new[] { 0, 1 }, new LpDistance());

        act.Should().Throw<ArgumentException>().WithMessage("*1 query labels for 2 queries*");
    }

    [Fact]
    public void Queries_whose_class_no_reference_has_cannot_be_measured()
    {
        using var queries = Points(0, 1);
        using var references = Points(5, 6);

        var act = () => RetrievalEvaluator.Evaluate(queries, new[] { 0, 0 }, references, new[] { 1, 1 }, new LpDistance());

        act.Should().Throw<ArgumentException>().WithMessage("*No query has a reference of its own label*");
    }

    [Fact]
    public void An_index_gives_the_metrics_worked_out_by_hand_and_a_cap_on_R_keeps_precision_at_1()
    {
        // The hand-worked case above, through the index seam (exact index, so the same neighbours).
        using var index = new MetricLearning.Indexing.EmbeddingIndex(new LpDistance(2));
        index.Add(new[] { new[] { 0f }, new[] { 1f }, new[] { 2f }, new[] { 10f }, new[] { 11f } }, new[] { 0, 0, 1, 1, 1 });
        var queries = new[] { new[] { 0.4f }, new[] { 10.4f }, new[] { 1.6f }, new[] { 0.9f } };
        var labels = new[] { 0, 1, 1, 1 };

        var metrics = RetrievalEvaluator.Evaluate(index, queries, labels);
        var capped = RetrievalEvaluator.Evaluate(index, queries, labels, maxR: 1);

        metrics.QueryCount.Should().Be(4);
        metrics.PrecisionAt1.Should().BeApproximately(0.75, 1e-9);
        metrics.RPrecision.Should().BeApproximately(2.0 / 3, 1e-9);
        metrics.MapAtR.Should().BeApproximately(11.0 / 18, 1e-9);
        capped.PrecisionAt1.Should().BeApproximately(0.75, 1e-9);
        capped.RPrecision.Should().BeApproximately(0.75, 1e-9, "with R capped at 1, R-precision is precision@1");
        var badCap = () => RetrievalEvaluator.Evaluate(index, queries, labels, maxR: 0);
        badCap.Should().Throw<ArgumentException>().WithMessage("*maxR is 0*");
    }

    [Fact]
    public void An_approximate_index_on_separated_classes_scores_like_the_exact_one()
    {
        var random = new Random(5);
        float[] Point(int label) => Enumerable.Range(0, 8).Select(d => (d == label ? 5f : 0f) + (float)random.NextDouble()).ToArray();
        var references = Enumerable.Range(0, 600).Select(i => Point(i % 6)).ToArray();
        var referenceLabels = Enumerable.Range(0, 600).Select(i => i % 6).ToArray();
        var queries = Enumerable.Range(0, 60).Select(i => Point(i % 6)).ToArray();
        var queryLabels = Enumerable.Range(0, 60).Select(i => i % 6).ToArray();
        using var exact = new MetricLearning.Indexing.EmbeddingIndex(new CosineSimilarity());
        exact.Add(references, referenceLabels);
        using var approximate = new MetricLearning.Indexing.ApproximateIndex(8, MetricLearning.Indexing.IndexMetric.Cosine);
        approximate.Add(Enumerable.Range(0, 600).Select(i => (long)i).ToArray(), references, referenceLabels);

        var fromExact = RetrievalEvaluator.Evaluate(exact, queries, queryLabels);
        var fromApproximate = RetrievalEvaluator.Evaluate(approximate, queries, queryLabels);

        fromExact.PrecisionAt1.Should().Be(1.0);
        fromApproximate.PrecisionAt1.Should().Be(1.0);
        fromApproximate.MapAtR.Should().BeApproximately(fromExact.MapAtR, 0.02);
    }
}
