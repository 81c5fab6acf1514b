using System;
using System.Collections.Generic;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Distances;

public sealed class OtherDistancesTests
{
    // Row pairs used throughout, with their values worked out by hand:
    //   (3, 4)  vs (0, 0):  squared L2 25, L1 7, L3 (27 + 64)^(1/3), dot 0,  cosine similarity 0 (zero row)
    //   (1, 0)  vs (0, 1):  squared L2 2,  L1 2, L3 2^(1/3),          dot 0,  cosine similarity 0
    //   (1, 1)  vs (2, 2):  squared L2 2,  L1 2, L3 2^(1/3),          dot 4,  cosine similarity 1
    //   (1, 0)  vs (-2, 0): squared L2 9,  L1 3, L3 3,                dot -2, cosine similarity -1
    private static readonly float[][] First = { new[] { 3f, 4f }, new[] { 1f, 0f }, new[] { 1f, 1f }, new[] { 1f, 0f } };
    private static readonly float[][] Second = { new[] { 0f, 0f }, new[] { 0f, 1f }, new[] { 2f, 2f }, new[] { -2f, 0f } };

    public static TheoryData<string, double[]> RowWise => new()
    {
        { "squared", new[] { 25.0, 2, 2, 9 } },
        { "l1", new[] { 7.0, 2, 2, 3 } },
        { "l3", new[] { Math.Cbrt(91), Math.Cbrt(2), Math.Cbrt(2), 3 } },
        { "cosine-similarity", new[] { 0.0, 0, 1, -1 } },
        { "cosine-distance", new[] { 1.0, 1, 0, 2 } },
        { "dot", new[] { 0.0, 0, 4, -2 } },
        // normalised: (0.6, 0.8)·0, 0, (1/√2,1/√2)·(1/√2,1/√2) = 1, -1
        { "dot-normalized", new[] { 0.0, 0, 1, -1 } },
        // normalised squared L2 = 2 - 2 cos, except the zero row: |(0.6, 0.8)|^2 = 1
        { "squared-normalized", new[] { 1.0, 2, 0, 4 } },
    };

    private static IDistance Create(string name) => name switch
    {
        "squared" => new SquaredEuclideanDistance(),
        "l1" => new LpDistance(1),
        "l3" => new LpDistance(3),
        "cosine-similarity" => new CosineSimilarity(),
        "cosine-distance" => new CosineDistance(),
        "dot" => new DotProductSimilarity(),
        "dot-normalized" => new DotProductSimilarity(normalize: true),
        "squared-normalized" => new SquaredEuclideanDistance(normalize: true),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(RowWise))]
    public void Compute_matches_the_values_worked_out_by_hand(string name, double[] expected)
    {
        using var a = Tensors.Rows(First);
        using var b = Tensors.Rows(Second);

        var values = Tensors.Values(Create(name).Compute(a, b));

        values.Should().HaveCount(expected.Length);
        for (int i = 0; i < expected.Length; i++)
            values[i].Should().BeApproximately((float)expected[i], 1e-5f, $"{name}, row {i}");
    }

    [Theory]
    [MemberData(nameof(RowWise))]
    public void ComputeMatrix_agrees_with_Compute_on_every_pair_of_rows(string name, double[] _)
    {
        var distance = Create(name);
        using var a = Tensors.Rows(First);
        using var b = Tensors.Rows(Second);

        var matrix = Tensors.Values(distance.ComputeMatrix(a, b));

        for (int i = 0; i < First.Length; i++)
        {
            for (int j = 0; j < Second.Length; j++)
            {
                using var row = Tensors.Rows(First[i]);
                using var column = Tensors.Rows(Second[j]);
                float single = Tensors.Values(distance.Compute(row, column))[0];
                matrix[i * Second.Length + j].Should().BeApproximately(single, 1e-4f, $"{name} ({i}, {j})");
            }
        }
    }

    [Theory]
    [InlineData("squared", false)]
    [InlineData("l1", false)]
    [InlineData("cosine-distance", false)]
    [InlineData("cosine-similarity", true)]
    [InlineData("dot", true)]
    public void Each_says_which_way_is_closer(string name, bool isSimilarity)
    {
        Create(name).IsSimilarity.Should().Be(isSimilarity);
        ((IDistance)new EuclideanDistance()).IsSimilarity.Should().BeFalse("a user implementation that says nothing is a distance");
    }

    [Theory]
    [InlineData("squared")]
    [InlineData("l1")]
    [InlineData("l3")]
    [InlineData("cosine-similarity")]
    [InlineData("dot-normalized")]
    public void Gradients_are_finite_for_identical_and_zero_embeddings(string name)
    {
        using var a = Tensors.Rows(new[] { 0.5f, -1f }, new[] { 0f, 0f }).requires_grad_();
        using var b = Tensors.Rows(new[] { 0.5f, -1f }, new[] { 0f, 0f }).requires_grad_();

        Create(name).Compute(a, b).sum().backward();

        Tensors.Values(a.grad!).Should().OnlyContain(g => float.IsFinite(g), name);
        Tensors.Values(b.grad!).Should().OnlyContain(g => float.IsFinite(g), name);
    }

    [Fact]
    public void An_order_below_one_is_refused()
    {
        var act = () => new LpDistance(0.5);

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("p");
    }

    [Fact]
    public void Mismatched_shapes_are_refused_naming_both()
    {
        using var a = zeros(3, 4);
        using var b = zeros(3, 5);

        var act = () => new CosineSimilarity().Compute(a, b);

        act.Should().Throw<ArgumentException>().WithMessage("*[3, 4]*[3, 5]*");
    }
}
