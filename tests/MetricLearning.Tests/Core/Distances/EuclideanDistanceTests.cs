using System;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Distances;

public sealed class EuclideanDistanceTests
{
    [Fact]
    public void Compute_returns_the_euclidean_norm_of_each_row_difference()
    {
        // Rows: (0,0)-(3,4) -> 5; (1,1)-(1,1) -> floored; (1,2)-(-1,0) -> sqrt(8).
        using var a = Tensors.Rows(new[] { 0f, 0f }, new[] { 1f, 1f }, new[] { 1f, 2f });
        using var b = Tensors.Rows(new[] { 3f, 4f }, new[] { 1f, 1f }, new[] { -1f, 0f });

        var d = Tensors.Values(new EuclideanDistance().Compute(a, b));

        d.Should().HaveCount(3);
        d[0].Should().BeApproximately(5f, 1e-6f);
        d[1].Should().BeApproximately((float)Math.Sqrt(1e-7), 1e-7f, "distance 0 is floored at sqrt(1e-7)");
        d[2].Should().BeApproximately((float)Math.Sqrt(8), 1e-6f);
    }

    [Fact]
    public void The_gradient_at_distance_zero_is_finite()
    {
        using var a = Tensors.Rows(new[] { 0.5f, -0.25f, 2f }).requires_grad_();
        using var b = Tensors.Rows(new[] { 0.5f, -0.25f, 2f }).requires_grad_();

        new EuclideanDistance().Compute(a, b).sum().backward();

        Tensors.Values(a.grad!).Should().OnlyContain(g => float.IsFinite(g));
        Tensors.Values(b.grad!).Should().OnlyContain(g => float.IsFinite(g));
    }

    [Fact]
    public void ComputeMatrix_matches_the_distance_of_every_pair_of_rows()
    {
        var rowsA = new[] { new[] { 0f, 0f }, new[] { 1f, 2f } };
        var rowsB = new[] { new[] { 3f, 4f }, new[] { 1f, 2f }, new[] { -1f, 0f } };
        using var a = Tensors.Rows(rowsA);
        using var b = Tensors.Rows(rowsB);

        using var matrix = new EuclideanDistance().ComputeMatrix(a, b);

        matrix.shape.Should().Equal(2, 3);
        var values = Tensors.Values(matrix);
        for (int i = 0; i < 2; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                double dx = rowsA[i][0] - rowsB[j][0], dy = rowsA[i][1] - rowsB[j][1];
                double expected = Math.Sqrt(Math.Max(dx * dx + dy * dy, 1e-7));
                values[i * 3 + j].Should().BeApproximately((float)expected, 1e-5f, $"row {i} against row {j}");
            }
        }
    }

    [Fact]
    public void Embeddings_of_mismatched_shapes_are_refused_with_both_shapes_named()
    {
        using var a = zeros(4, 8);
        using var b = zeros(4, 7);

        var act = () => new EuclideanDistance().Compute(a, b);

        act.Should().Throw<ArgumentException>().WithMessage("*same shape*[4, 8]*[4, 7]*");
    }

    [Fact]
    public void A_one_dimensional_embedding_batch_is_refused()
    {
        using var a = zeros(8);
        using var b = zeros(8);

        var act = () => new EuclideanDistance().Compute(a, b);

        act.Should().Throw<ArgumentException>().WithMessage("*2 dimension*[8]*");
    }

    [Fact]
    public void Integer_embeddings_are_refused()
    {
        using var a = zeros(new long[] { 2, 2 }, dtype: ScalarType.Int64);
        using var b = zeros(new long[] { 2, 2 }, dtype: ScalarType.Int64);

        var act = () => new EuclideanDistance().Compute(a, b);

        act.Should().Throw<ArgumentException>().WithMessage("*floating-point*Int64*");
    }

    [Fact]
    public void ComputeMatrix_refuses_different_embedding_sizes()
    {
        using var a = zeros(3, 4);
        using var b = zeros(5, 6);

        var act = () => new EuclideanDistance().ComputeMatrix(a, b);

        act.Should().Throw<ArgumentException>().WithMessage("*same embedding size*");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1e-7)]
    [InlineData(double.NaN)]
    public void A_floor_that_is_not_positive_is_refused(double floor)
    {
        var act = () => new EuclideanDistance(floor);

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("floor");
    }
}
