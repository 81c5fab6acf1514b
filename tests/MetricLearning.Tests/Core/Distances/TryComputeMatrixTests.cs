using System;
using System.Linq;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Distances;

public sealed class TryComputeMatrixTests
{
    private static IDistance Create(string name) => name switch
    {
        "cosine-similarity" => new CosineSimilarity(),
        "cosine-distance" => new CosineDistance(),
        "dot" => new DotProductSimilarity(),
        "dot-normalized" => new DotProductSimilarity(normalize: true),
        "squared" => new SquaredEuclideanDistance(),
        "squared-normalized" => new SquaredEuclideanDistance(normalize: true),
        "euclidean" => new EuclideanDistance(),
        "euclidean-floor" => new EuclideanDistance(floor: 0.25),
        "l1" => new LpDistance(1),
        "snr" => new SnrDistance(),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [InlineData("cosine-similarity")]
    [InlineData("cosine-distance")]
    [InlineData("dot")]
    [InlineData("dot-normalized")]
    [InlineData("squared")]
    [InlineData("squared-normalized")]
    [InlineData("euclidean")]
    [InlineData("euclidean-floor")]
    public void The_built_in_distances_write_the_matrix_of_every_pair_of_rows_into_the_output(string name)
    {
        var distance = Create(name);
        var random = new Random(5);
        float[][] first = Enumerable.Range(0, 9).Select(_ => Enumerable.Range(0, 4).Select(_ => (float)random.Next(-3, 4)).ToArray()).ToArray();
        float[][] second = Enumerable.Range(0, 13).Select(_ => Enumerable.Range(0, 4).Select(_ => (float)random.Next(-3, 4)).ToArray()).ToArray();
        using var a = Tensors.Rows(first);
        using var b = Tensors.Rows(second);
        using var output = full(9, 13, float.NaN);

        distance.TryComputeMatrix(a, b, output).Should().BeTrue();

        var written = Tensors.Values(output);
        for (int i = 0; i < first.Length; i++)
        {
            for (int j = 0; j < second.Length; j++)
            {
                // Each pair on its own through Compute, the row-wise path, which shares no code with the matrix.
                using var row = Tensors.Rows(first[i]);
                using var column = Tensors.Rows(second[j]);
                using var pair = distance.Compute(row, column);
                float single = Tensors.Values(pair)[0];
                written[i * second.Length + j].Should().BeApproximately(single, 1e-4f, $"{name} ({i}, {j})");
            }
        }
    }

    [Theory]
    [InlineData("l1")]
    [InlineData("snr")]
    public void A_distance_without_it_says_so_and_leaves_the_output_alone(string name)
    {
        using var a = randn(3, 4);
        using var b = randn(5, 4);
        using var output = full(3, 5, float.NaN);

        Create(name).TryComputeMatrix(a, b, output).Should().BeFalse();

        Tensors.Values(output).Should().OnlyContain(v => float.IsNaN(v));
    }

    [Fact]
    public void The_output_carries_no_gradient()
    {
        using var a = randn(3, 4).requires_grad_();
        using var b = randn(5, 4).requires_grad_();
        using var output = empty(3, 5);

        new CosineSimilarity().TryComputeMatrix(a, b, output).Should().BeTrue();

        output.requires_grad.Should().BeFalse();
    }

    [Fact]
    public void An_output_of_the_wrong_shape_dtype_or_layout_is_refused_by_name()
    {
        var distance = new SquaredEuclideanDistance();
        using var a = randn(3, 4);
        using var b = randn(5, 4);
        using var wrongShape = empty(5, 3);
        using var wrongRank = empty(15);
        using var wrongType = empty(3, 5, dtype: ScalarType.Float64);
        using var wide = empty(5, 3);
        using var transposed = wide.t();

        var shape = () => distance.TryComputeMatrix(a, b, wrongShape);
        var rank = () => distance.TryComputeMatrix(a, b, wrongRank);
        var type = () => distance.TryComputeMatrix(a, b, wrongType);
        var layout = () => distance.TryComputeMatrix(a, b, transposed);

        shape.Should().Throw<ArgumentException>().WithParameterName("output").WithMessage("*[3, 5]*[5, 3]*");
        rank.Should().Throw<ArgumentException>().WithParameterName("output");
        type.Should().Throw<ArgumentException>().WithParameterName("output").WithMessage("*Float64*");
        layout.Should().Throw<ArgumentException>().WithParameterName("output").WithMessage("*contiguous*");
    }
}
