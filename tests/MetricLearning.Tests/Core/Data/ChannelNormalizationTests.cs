using System;
using System.Linq;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Data;

public sealed class ChannelNormalizationTests
{
    [Fact]
    public void Each_channel_is_scaled_centred_and_divided_by_its_own_numbers()
    {
        var normalization = new ChannelNormalization(0.5f, new[] { 1f, -2f }, new[] { 2f, 4f });
        // One image, two channels of two pixels: channel 0 holds 2 and 6, channel 1 holds 4 and 8.
        using var raw = tensor(new byte[] { 2, 6, 4, 8 }, new long[] { 1, 2, 1, 2 });

        using var applied = normalization.Apply(raw);

        // (x * 0.5 - mean) / std: channel 0 (1 - 1) / 2 = 0, (3 - 1) / 2 = 1; channel 1 (2 + 2) / 4 = 1, (4 + 2) / 4 = 1.5.
        Tensors.Values(applied).Should().Equal(0f, 1f, 1f, 1.5f);
        var wrong = () => normalization.Apply(zeros(1, 3, 2, 2));
        wrong.Should().Throw<ArgumentException>().WithMessage("*2 channel(s)*[1, 3, 2, 2]*");
    }

    [Fact]
    public void Measured_statistics_bring_each_channel_to_mean_zero_and_deviation_one()
    {
        manual_seed(5);
        using var images = cat(new[] { randint(0, 100, new long[] { 2000, 1, 4, 4 }), randint(100, 256, new long[] { 2000, 1, 4, 4 }) }, 1).to_type(ScalarType.Byte);

        var normalization = ChannelNormalization.Measure(images);
        using var applied = normalization.Apply(images);
        using var perChannel = applied.transpose(0, 1).reshape(2, -1);

        // Uniform integers 0..99 scaled by 1/255 have mean 49.5/255; 100..255, mean 177.5/255.
        normalization.Mean[0].Should().BeApproximately(49.5f / 255f, 0.005f);
        normalization.Mean[1].Should().BeApproximately(177.5f / 255f, 0.005f);
        Tensors.Values(perChannel.mean(new long[] { 1 })).Should().AllSatisfy(m => m.Should().BeApproximately(0f, 1e-4f));
        Tensors.Values(perChannel.std(1)).Should().AllSatisfy(s => s.Should().BeApproximately(1f, 1e-3f));
        using var asInputs = new InputSet(images.clone());
        var streamed = ChannelNormalization.Measure(new InMemorySource(asInputs, new int[2000]));
        streamed.Mean.Should().Equal(normalization.Mean, (a, b) => Math.Abs(a - b) < 1e-6, "a source is measured in chunks to the same statistics");
        streamed.StandardDeviation.Should().Equal(normalization.StandardDeviation, (a, b) => Math.Abs(a - b) < 1e-6);
        var constant = () => ChannelNormalization.Measure(ones(3, 1, 2, 2));
        constant.Should().Throw<ArgumentException>().WithMessage("*Channel 0 of the images is constant*");
    }
}
