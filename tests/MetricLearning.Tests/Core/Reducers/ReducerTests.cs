using System;
using System.Linq;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Reducers;
using MetricLearning.Regularizers;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Reducers;

/// <summary>
/// Reducers on hand-made terms, with expectations computed by hand; the seam's checks. Their agreement with
/// pytorch-metric-learning's reducers on real losses is in PmlReferenceTests.
/// </summary>
public sealed class ReducerTests
{
    private static readonly double[] Values = { 0.0, 0.5, 2.0, -1.0, 3.0, 0.25 };

    /// <summary>Six pair values anchored at rows 0, 0, 1, 1, 2, 2; the fourth does not count.</summary>
    private static LossTerms Pairs() => new(
        "pairs", LossTermKind.PositivePair,
        tensor(Values, ScalarType.Float64),
        tensor(new long[] { 0, 0, 1, 1, 2, 2 }),
        tensor(new[] { true, true, true, false, true, true }));

    private static readonly long[] Labels = { 1, 0, 1 };

    private static double Reduce(IReducer reducer)
    {
        using var terms = Pairs();
        using var labels = tensor(Labels);
        using var value = reducer.Reduce(terms, labels);
        return value.item<double>();
    }

    [Fact]
    public void Each_reducer_counts_only_the_valid_values()
    {
        // Valid values: 0, 0.5, 2, 3, 0.25 (the -1 does not count).
        Reduce(new MeanReducer()).Should().BeApproximately(5.75 / 5, 1e-12);
        Reduce(new SumReducer()).Should().BeApproximately(5.75, 1e-12);
        Reduce(new AvgNonZeroReducer()).Should().BeApproximately(5.75 / 4, 1e-12);
        Reduce(new ThresholdReducer(low: 0.3, high: 2.5)).Should().BeApproximately(2.5 / 2, 1e-12);
        Reduce(new ThresholdReducer(high: 0.3)).Should().BeApproximately(0.25 / 2, 1e-12);
        // Per anchor: row 0 averages 0 and 0.5, row 1 has only 2, row 2 averages 3 and 0.25; then their mean.
        Reduce(new PerAnchorReducer()).Should().BeApproximately((0.25 + 2 + 1.625) / 3, 1e-12);
        Reduce(new PerAnchorReducer(new SumReducer())).Should().BeApproximately(0.25 + 2 + 1.625, 1e-12);
        // Class weights by the anchor's label: rows 0 and 2 are class 1 (weight 3), row 1 class 0 (weight 0.5).
        Reduce(new ClassWeightedReducer(new[] { 0.5, 3.0 })).Should().BeApproximately((3 * 0.5 + 0.5 * 2 + 3 * 3.25) / 5, 1e-12);
    }

    [Fact]
    public void Nothing_to_count_gives_zero_connected_to_the_values()
    {
        using var values = tensor(new[] { 1.0, 2.0 }, ScalarType.Float64).requires_grad_(true);
        using var none = tensor(new[] { false, false });
        using var terms = new LossTerms("none", LossTermKind.Element, values.alias(), valid: none.alias());
        using var labels = tensor(new long[] { 0, 1 });
        foreach (IReducer reducer in new IReducer[] { new MeanReducer(), new SumReducer(), new AvgNonZeroReducer(), new PerAnchorReducer(), new ClassWeightedReducer(new[] { 1.0, 1.0 }) })
        {
            using var value = reducer.Reduce(terms, labels);
            value.item<double>().Should().Be(0, reducer.GetType().Name);
            value.requires_grad.Should().BeTrue($"{reducer.GetType().Name} keeps the zero connected");
        }
    }

    [Fact]
    public void Bad_settings_and_terms_are_refused_naming_what_is_wrong()
    {
        FluentActions.Invoking(() => new ThresholdReducer()).Should().Throw<ArgumentException>().WithMessage("*low or a high*");
        FluentActions.Invoking(() => new ThresholdReducer(1, 0.5)).Should().Throw<ArgumentException>().WithMessage("*below the high bound*");
        FluentActions.Invoking(() => new ClassWeightedReducer(new[] { 1.0, -1.0 })).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*class 1*");
        FluentActions.Invoking(() => Reduce(new ClassWeightedReducer(new[] { 1.0 }))).Should().Throw<ArgumentException>().WithMessage("*Class 1 has no weight*");
        FluentActions.Invoking(() => Reduce(new DivisorReducer())).Should().Throw<ArgumentException>().WithMessage("*'pairs' terms do not*");

        using var values = zeros(3, 4, dtype: ScalarType.Float64);
        using var wrongAnchors = zeros(new long[] { 5 }, dtype: ScalarType.Int64);
        FluentActions.Invoking(() => new LossTerms("x", LossTermKind.PositivePair, values, wrongAnchors)).Should().Throw<ArgumentException>().WithMessage("*[5]*does not broadcast*[3, 4]*");
        FluentActions.Invoking(() => new LossTerms("x", LossTermKind.Triplet, values)).Should().Throw<ArgumentException>().WithMessage("*need the anchor row*");
        FluentActions.Invoking(() => new LossTerms("x", LossTermKind.AlreadyReduced, values)).Should().Throw<ArgumentException>().WithMessage("*must be 0-d*");
    }

    [Fact]
    public void Unreduced_terms_are_the_values_the_reducer_sees()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var embeddings = randn(8, 3, dtype: ScalarType.Float64);
        var labels = tensor(new long[] { 0, 0, 1, 1, 2, 2, 3, 3 });
        var loss = new MarginContrastiveLoss(0.2, 0.8, reducer: new SumReducer());
        var terms = loss.ComputeTerms(embeddings, labels);
        terms.Select(t => t.Kind).Should().Equal(LossTermKind.PositivePair, LossTermKind.NegativePair);
        double sum = terms.Sum(t => t.Values.masked_fill(t.Valid!.logical_not(), 0).sum().item<double>());
        loss.Compute(embeddings, labels).item<double>().Should().BeApproximately(sum, 1e-12);

        // The positive pairs are the 8 ordered same-class pairs; each value is max(d - 0.2, 0) on normalised embeddings.
        var positive = terms[0];
        positive.Valid!.sum().item<long>().Should().Be(8);
        var d01 = (nn.functional.normalize(embeddings[0], p: 2, dim: 0) - nn.functional.normalize(embeddings[1], p: 2, dim: 0)).norm().item<double>();
        positive.Values[0, 1].item<double>().Should().BeApproximately(Math.Max(d01 - 0.2, 0), 1e-12);
    }

    [Fact]
    public void A_weight_regularizer_needs_a_loss_with_class_vectors()
    {
        FluentActions.Invoking(() => new TripletMarginLoss { WeightRegularizer = new RegularFaceRegularizer() })
            .Should().Throw<InvalidOperationException>().WithMessage("*TripletMarginLoss has no class vectors*");
        FluentActions.Invoking(() => new TripletMarginLoss { EmbeddingRegularizerWeight = double.NaN })
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*EmbeddingRegularizerWeight*");
    }

    [Fact]
    public void An_embedding_regularizer_adds_its_weighted_penalty()
    {
        using var scope = NewDisposeScope();
        manual_seed(6);
        var embeddings = randn(6, 4, dtype: ScalarType.Float64);
        var labels = tensor(new long[] { 0, 0, 1, 1, 2, 2 });
        double plain = new TripletMarginLoss().Compute(embeddings, labels).item<double>();
        double regularized = new TripletMarginLoss { EmbeddingRegularizer = new LpRegularizer(), EmbeddingRegularizerWeight = 0.5 }.Compute(embeddings, labels).item<double>();
        double meanNorm = Enumerable.Range(0, 6).Average(i => embeddings[i].norm().item<double>());
        regularized.Should().BeApproximately(plain + 0.5 * meanNorm, 1e-12);
    }

    [Fact]
    public void Sparse_centres_need_their_rows()
    {
        using var rows = zeros(5, 3);
        FluentActions.Invoking(() => new SparseCentersRegularizer(2, 3).Compute(rows)).Should().Throw<ArgumentException>().WithMessage("*6 rows; got 5*");
        FluentActions.Invoking(() => new SparseCentersRegularizer(2, 1)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*two centres*");
        FluentActions.Invoking(() => new RegularFaceRegularizer().Compute(zeros(1, 3))).Should().Throw<ArgumentException>().WithMessage("*at least 2 rows*");
    }

    [Fact]
    public void The_fused_multi_similarity_gradient_declines_a_reducer_other_than_the_mean()
    {
        new MultiSimilarityLoss(reducer: new SumReducer()).CreateFusedGradient(null, 8, 4, out var whyNot).Should().BeNull();
        whyNot.Should().Contain(nameof(SumReducer));
        new MultiSimilarityLoss { EmbeddingRegularizer = new LpRegularizer() }.CreateFusedGradient(null, 8, 4, out whyNot).Should().BeNull();
        whyNot.Should().Contain("regularizer");
        using var fused = new MultiSimilarityLoss().CreateFusedGradient(null, 8, 4, out whyNot) as IDisposable;
        whyNot.Should().BeNull();
    }
}
