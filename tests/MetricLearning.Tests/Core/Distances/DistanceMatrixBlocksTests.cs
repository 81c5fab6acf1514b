using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Distances;

public sealed class DistanceMatrixBlocksTests
{
    [Fact]
    public void Blocks_cover_every_query_row_once_in_order_and_equal_the_whole_matrix()
    {
        manual_seed(21);
        using var queries = randn(10, 3);
        using var references = randn(7, 3);
        var distance = new LpDistance(2);
        using var whole = distance.ComputeMatrix(queries, references);
        var starts = new List<long>();
        var rows = new List<float[]>();

        // A budget of 3 rows of 7 float32 values (84 bytes) and a bit: blocks of 3, 3, 3 and 1 rows.
        distance.ForEachBlock(queries, references, (start, block) =>
        {
            starts.Add(start);
            block.shape.Should().Equal(Math.Min(3, 10 - start), 7);
            rows.Add(Tensors.Values(block));
        }, blockBytes: 3 * 7 * 4 + 10);

        starts.Should().Equal(0, 3, 6, 9);
        rows.SelectMany(r => r).Should().Equal(Tensors.Values(whole), (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Fact]
    public void A_budget_below_one_row_still_makes_progress_one_row_at_a_time()
    {
        using var queries = randn(4, 2);
        using var references = randn(5, 2);
        int blocks = 0;

        new CosineSimilarity().ForEachBlock(queries, references, (_, block) =>
        {
            block.shape[0].Should().Be(1);
            blocks++;
        }, blockBytes: 1);

        blocks.Should().Be(4);
    }

    [Fact]
    public void Blocks_carry_no_gradient()
    {
        using var queries = randn(3, 2).requires_grad_();
        using var references = randn(3, 2);
        bool? requiresGrad = null;

        new LpDistance(2).ForEachBlock(queries, references, (_, block) => requiresGrad = block.requires_grad);

        requiresGrad.Should().BeFalse();
    }

    [Fact]
    public void Mismatched_inputs_and_budgets_are_refused_by_name()
    {
        using var queries = randn(3, 2);
        using var wider = randn(3, 4);
        var distance = new LpDistance(2);

        var width = () => distance.ForEachBlock(queries, wider, (_, _) => { });
        var budget = () => distance.ForEachBlock(queries, queries, (_, _) => { }, blockBytes: 0);

        width.Should().Throw<ArgumentException>().WithMessage("*queries*references*");
        budget.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("blockBytes");
    }
}
