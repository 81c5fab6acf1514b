using System;
using System.Linq;
using FluentAssertions;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Networks;

public sealed class MlpEmbeddingNetworkTests
{
    [Fact]
    public void The_default_network_is_the_reference_784_128_128_128_mlp()
    {
        using var network = new MlpEmbeddingNetwork();
        using var images = rand(5, 28, 28);

        using var embeddings = network.call(images);

        embeddings.shape.Should().Equal(5, 128);
        network.EmbeddingSize.Should().Be(128);
        var shapes = network.named_parameters().Select(p => (p.name, shape: string.Join("x", p.parameter.shape))).ToList();
        shapes.Should().Equal(
            ("layers.dense1.weight", "128x784"), ("layers.dense1.bias", "128"),
            ("layers.dense2.weight", "128x128"), ("layers.dense2.bias", "128"),
            ("layers.dense3.weight", "128x128"), ("layers.dense3.bias", "128"));
        Tensors.Values(embeddings).Should().OnlyContain(v => v >= 0f, "the last layer is followed by ReLU, as in the reference");
    }

    [Fact]
    public void Glorot_uniform_weights_stay_within_their_bound_and_biases_are_zero()
    {
        manual_seed(3);
        using var network = new MlpEmbeddingNetwork();

        foreach (var (name, parameter) in network.named_parameters())
        {
            var values = Tensors.Values(parameter);
            if (name.EndsWith("bias", StringComparison.Ordinal))
            {
                values.Should().OnlyContain(v => v == 0f, name);
                continue;
            }

            double bound = Math.Sqrt(6.0 / (parameter.shape[0] + parameter.shape[1]));
            values.Should().OnlyContain(v => Math.Abs(v) <= bound, name);
            values.Max().Should().BeGreaterThan((float)(0.9 * bound), $"{name} should fill its range");
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_weights()
    {
        manual_seed(9);
        using var first = new MlpEmbeddingNetwork();
        manual_seed(9);
        using var second = new MlpEmbeddingNetwork();

        Tensors.Values(first.parameters().First()).Should().Equal(Tensors.Values(second.parameters().First()));
    }

    [Fact]
    public void Dropout_is_active_in_training_mode_and_off_in_evaluation_mode()
    {
        using var network = new MlpEmbeddingNetwork(new MlpOptions { InputSize = 4, LayerSizes = new[] { 64, 8 }, Dropout = 0.5 });
        using var input = ones(1, 4);

        network.eval();
        var a = Tensors.Values(network.call(input));
        var b = Tensors.Values(network.call(input));
        network.train();
        var noisy = Enumerable.Range(0, 5).Select(_ => Tensors.Values(network.call(input))).ToList();

        a.Should().Equal(b);
        noisy.Should().Contain(values => !values.SequenceEqual(a));
    }

    [Fact]
    public void Inputs_with_the_wrong_number_of_features_are_refused()
    {
        using var network = new MlpEmbeddingNetwork();
        using var images = rand(2, 27, 27);

        var act = () => network.call(images);

        act.Should().Throw<ArgumentException>().WithMessage("*784 features*[2, 27, 27]*729*");
    }

    [Fact]
    public void Missing_layer_sizes_are_refused_and_named()
    {
        var act = () => new MlpEmbeddingNetwork(new MlpOptions { LayerSizes = null! });

        act.Should().Throw<ArgumentException>().WithMessage("*LayerSizes*");
    }

    [Theory]
    [InlineData(0, 128, 0.1, "InputSize")]
    [InlineData(784, 0, 0.1, "LayerSizes")]
    [InlineData(784, 128, 1.0, "Dropout")]
    [InlineData(784, 128, -0.1, "Dropout")]
    public void Invalid_options_are_refused_and_named(int inputSize, int width, double dropout, string option)
    {
        var act = () => new MlpEmbeddingNetwork(new MlpOptions { InputSize = inputSize, LayerSizes = new[] { width }, Dropout = dropout });

        act.Should().Throw<ArgumentException>().WithMessage($"*{option}*");
    }
}
