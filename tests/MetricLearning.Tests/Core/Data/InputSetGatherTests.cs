using System;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Data;

public sealed class InputSetGatherTests
{
    private static readonly long[] Rows = { 4, 0, 4, 9, 2 };

    private static float[] GatheredInto(InputSet set, long[] rows)
    {
        using var indices = tensor(rows);
        using var destination = full(rows.Length, set.InputShape[0] * (set.InputShape.Count > 1 ? set.InputShape[1] : 1), float.NaN);
        set.GatherInto(indices, destination);
        return Tensors.Values(destination);
    }

    private static float[] Gathered(InputSet set, long[] rows)
    {
        using var indices = tensor(rows);
        using var gathered = set.Gather(indices);
        return Tensors.Values(gathered);
    }

    [Theory]
    [InlineData(1f, 0f, 1f)]
    [InlineData(1f / 255, 0f, 1f)]
    [InlineData(1f / 255, 0.1307f, 0.3081f)]
    public void Bytes_gathered_into_a_buffer_equal_a_gathered_batch(float scale, float mean, float deviation)
    {
        manual_seed(1);
        // 70 values a row: more than one vector of bytes, and a remainder.
        using var set = new InputSet(randint(0, 256, new long[] { 10, 70 }, dtype: ScalarType.Byte), new InputScaling(scale, mean, deviation));

        // The same float32 operations in the same order: the same values, bit for bit.
        GatheredInto(set, Rows).Should().Equal(Gathered(set, Rows));
        // Independently: row 9's value 5 by the formula.
        float byHand = ((float)set.Data[9, 5].item<byte>() * scale - mean) / deviation;
        GatheredInto(set, Rows)[3 * 70 + 5].Should().BeApproximately(byHand, 1e-5f);
    }

    [Fact]
    public void Float_inputs_of_several_dimensions_are_gathered_as_rows()
    {
        manual_seed(2);
        using var set = new InputSet(randn(10, 3, 4), new InputScaling(2f));

        GatheredInto(set, Rows).Should().Equal(Gathered(set, Rows));
        // The managed pass's own refusal: this was not a fall-back to Gather.
        var act = () => GatheredInto(set, new long[] { 10 });
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Index 10 is outside the set of 10 inputs*");
    }

    [Fact]
    public void Indices_of_another_dtype_go_through_gather()
    {
        manual_seed(4);
        using var set = new InputSet(randint(0, 256, new long[] { 10, 20 }, dtype: ScalarType.Byte), 1f / 255);
        using var indices = tensor(new[] { 3, 1, 3 });
        using var destination = full(3, 20, float.NaN);

        set.GatherInto(indices, destination);

        using var longIndices = tensor(new long[] { 3, 1, 3 });
        Tensors.Values(destination).Should().Equal(Tensors.Values(set.Gather(longIndices)));
    }

    [Fact]
    public void Another_preprocessing_goes_through_gather()
    {
        manual_seed(3);
        using var set = new InputSet(randn(10, 6), new PlusOne());

        GatheredInto(set, Rows).Should().Equal(Gathered(set, Rows), (a, b) => Math.Abs(a - b) <= 1e-6f);
    }

    [Fact]
    public void An_index_outside_the_set_is_refused_naming_it()
    {
        using var set = new InputSet(zeros(new long[] { 10, 4 }, dtype: ScalarType.Byte), 1f / 255);

        var act = () => GatheredInto(set, new long[] { 1, 10 });
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Index 10 is outside the set of 10 inputs*");
        var negative = () => GatheredInto(set, new long[] { -1 });
        negative.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Index -1*");
    }

    private sealed class PlusOne : IInputPreprocessing
    {
        public Tensor Apply(Tensor inputs) => inputs + 1;
    }
}
