using System;
using System.IO;
using System.Linq;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using MetricLearning.Training;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Networks;

public sealed class ConvEmbeddingNetworkTests
{
    /// <summary>
    /// 8x8 images of a bar, its direction the class (horizontal, vertical, diagonal, anti-diagonal) at a random
    /// place, under noise as strong as the bar: what an untrained network cannot sort and convolutions can learn to.
    /// </summary>
    private static (InputSet Inputs, int[] Labels) Bars(int perClass, int seed)
    {
        var random = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var labels = Enumerable.Range(0, 4 * perClass).Select(i => i % 4).ToArray();
        var values = new float[labels.Length * 64];
        for (int i = 0; i < labels.Length; i++)
        {
            int at = random.Next(8);
            for (int y = 0; y < 8; y++)
            {
                for (int x = 0; x < 8; x++)
                {
                    bool bar = labels[i] switch { 0 => y == at, 1 => x == at, 2 => x == y, _ => x == 7 - y };
                    values[i * 64 + y * 8 + x] = (float)((bar ? 1.0 : 0.0) + 0.6 * Normal());
                }
            }
        }

        return (new InputSet(tensor(values, new long[] { labels.Length, 1, 8, 8 })), labels);
    }

    [Fact]
    public void The_default_network_is_the_yardstick_cnn_and_refuses_inputs_that_are_not_its_images()
    {
        using var network = new ConvEmbeddingNetwork();
        using var images = zeros(5, 1, 28, 28);

        using var output = network.forward(images);
        long parameters = network.parameters().Sum(p => p.numel());

        output.shape.Should().Equal(5, 128);
        // By hand: 3x3 convolutions 1->32, 32->64, 64->128 with biases, batch-norm scales and shifts, linear 128->128.
        parameters.Should().Be((9 * 32 + 32 + 64) + (32 * 9 * 64 + 64 + 128) + (64 * 9 * 128 + 128 + 256) + (128 * 128 + 128));
        network.Options.ParameterCount().Should().Be(parameters);
        var flat = () => network.forward(zeros(5, 784));
        flat.Should().Throw<ArgumentException>().WithMessage("*[N, 1, H, W]*[5, 784]*");
        var tiny = () => network.forward(zeros(2, 1, 3, 3));
        tiny.Should().Throw<ArgumentException>().WithMessage("*3x3 are too small for 3 blocks*4x4*");
    }

    [Fact]
    public void Trained_on_images_it_retrieves_far_better_than_untrained_and_saves_with_its_batch_statistics()
    {
        var (inputs, labels) = Bars(perClass: 48, seed: 21);
        using var _ = inputs;
        manual_seed(21);
        using var network = new ConvEmbeddingNetwork(new ConvOptions { Channels = new[] { 16, 32 }, EmbeddingSize = 16 });
        double untrained = Retrieval.PrecisionAt1(network, inputs, labels, new CosineSimilarity());
        var options = new EmbeddingTrainerOptions { Epochs = 12, SamplesPerClass = 8, BatchSize = 32, Optimizer = { LearningRate = 3e-3 }, Seed = 21 };

        new EmbeddingTrainer(new MultiSimilarityLoss(), options).Fit(network, inputs, labels);
        double trained = Retrieval.PrecisionAt1(network, inputs, labels, new CosineSimilarity());

        trained.Should().BeGreaterThan(untrained + 0.25, "training beats the same network untrained by a margin");
        using var folder = new TempFolder();
        using var batch = inputs.Data.narrow(0, 0, 10);
        using var model = new TrainedModel(network, new CosineSimilarity(), 0.5, inputs.Preprocessing, new long[] { 1, 8, 8 });
        using var before = model.Embed(batch);
        model.Save(folder.Path);
        using var loaded = TrainedModel.Load(folder.Path);
        using var after = loaded.Embed(batch);
        loaded.Network.Should().BeOfType<ConvEmbeddingNetwork>().Which.Options.Channels.Should().Equal(16, 32);
        after.allclose(before, rtol: 1e-5, atol: 1e-6).Should().BeTrue("the loaded network, batch-norm running statistics included, embeds as the trained one");
    }

    [Theory]
    [InlineData(12, 3)]
    [InlineData(4, 3)]   // maps of 1x1 after the second pooling, whose strides fit both layouts
    [InlineData(28, 3)]
    [InlineData(28, 1)]  // one channel: the input is viewed channels-last, not copied
    [InlineData(4, 1)]
    public void Channels_last_activations_give_the_values_and_gradients_of_channels_first_ones(int size, int channels)
    {
        manual_seed(31);
        using var first = new ConvEmbeddingNetwork(new ConvOptions { InputChannels = channels, ChannelsLast = false });
        using var last = new ConvEmbeddingNetwork(new ConvOptions { InputChannels = channels, ChannelsLast = true });
        StateCopy.CopyState(first, last);
        using var images = randn(6, channels, size, size);

        using var expected = first.forward(images);
        using var actual = last.forward(images);
        expected.sum().backward();
        actual.sum().backward();

        actual.allclose(expected, rtol: 1e-4, atol: 1e-5).Should().BeTrue("the layout changes memory order, not values");
        var firstGradients = first.parameters().Select(p => p.grad!).ToArray();
        var lastGradients = last.parameters().Select(p => p.grad!).ToArray();
        for (int i = 0; i < firstGradients.Length; i++)
            lastGradients[i].allclose(firstGradients[i], rtol: 1e-3, atol: 1e-4).Should().BeTrue($"gradient {i} agrees");
        last.state_dict().Keys.Should().Equal(first.state_dict().Keys, "the layout step holds no weights");
    }

    [Theory]
    [InlineData(9, 1, true)]   // odd sides: pooling drops the last row and column
    [InlineData(8, 3, true)]
    [InlineData(9, 1, false)]
    public void The_network_computes_the_textbook_blocks_convolution_normalisation_relu_then_pool(int size, int channels, bool channelsLast)
    {
        // The network pools before ReLU (the two commute); the textbook order, written out here with functional
        // operations on the network's own parameters, must give the same embedding and the same parameter gradients
        // in training mode (batch statistics). Default widths and options (three blocks with batch normalisation, as
        // written out below): with very few channels (4 -> 6 at 9x9, say) libtorch 2.10's convolution backward on two
        // threads returns wrong input gradients, in either order.
        using var scope = NewDisposeScope();
        manual_seed(33);
        using var network = new ConvEmbeddingNetwork(new ConvOptions { InputChannels = channels, ChannelsLast = channelsLast });
        network.train();
        var weights = network.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var textbook = weights.ToDictionary(p => p.Key, p => p.Value.detach().clone().requires_grad_(true));
        using var images = randn(7, channels, size, size);

        using var actual = network.forward(images);
        Tensor x = images;
        for (int block = 1; block <= 3; block++)
        {
            x = nn.functional.conv2d(x, textbook[$"layers.conv{block}.weight"], textbook[$"layers.conv{block}.bias"], padding: new long[] { 1, 1 });
            x = nn.functional.batch_norm(x, null, null, textbook[$"layers.norm{block}.weight"], textbook[$"layers.norm{block}.bias"], training: true);
            x = nn.functional.relu(x);
            if (block < 3)
                x = nn.functional.max_pool2d(x, 2);
        }

        using var expected = nn.functional.linear(x.mean(new long[] { 2, 3 }), textbook["layers.embed.weight"], textbook["layers.embed.bias"]);
        using var direction = randn(expected.shape);
        (actual * direction).sum().backward();
        (expected * direction).sum().backward();

        actual.allclose(expected, rtol: 1e-4, atol: 1e-5).Should().BeTrue("pooling before ReLU gives the textbook block's values");
        foreach (var (name, parameter) in weights)
            parameter.grad!.allclose(textbook[name].grad!, rtol: 1e-3, atol: 1e-4).Should().BeTrue($"and the same gradient of {name}");
        using var shifted = expected + 1e-2;
        actual.allclose(shifted, rtol: 1e-4, atol: 1e-5).Should().BeFalse("a different embedding is told apart");
    }

    [Fact]
    public void A_one_channel_input_that_is_a_slice_of_a_larger_tensor_is_embedded_from_its_own_images()
    {
        manual_seed(32);
        using var network = new ConvEmbeddingNetwork(new ConvOptions { Channels = new[] { 4, 8 }, EmbeddingSize = 4 });
        network.eval();
        using var all = randn(12, 1, 8, 8);
        using var slice = all.narrow(0, 6, 6);
        using var copy = slice.clone();
        using var head = all.narrow(0, 0, 6).clone();

        using var fromSlice = network.forward(slice);
        using var fromCopy = network.forward(copy);
        using var fromHead = network.forward(head);

        fromSlice.allclose(fromCopy, rtol: 1e-5, atol: 1e-6).Should().BeTrue("the slice's images are embedded, wherever they start in memory");
        fromHead.allclose(fromCopy, rtol: 1e-5, atol: 1e-6).Should().BeFalse("other images embed differently");
    }

    [Fact]
    public void A_description_claiming_more_parameters_than_the_weights_hold_is_refused()
    {
        using var folder = new TempFolder();
        using (var network = new ConvEmbeddingNetwork(new ConvOptions { Channels = new[] { 4 }, EmbeddingSize = 4 }))
        using (var model = new TrainedModel(network, new CosineSimilarity(), 0.5, inputShape: new long[] { 1, 4, 4 }))
            model.Save(folder.Path);
        string json = File.ReadAllText(Path.Combine(folder.Path, "model.json"));
        File.WriteAllText(Path.Combine(folder.Path, "model.json"), json.Replace("\"EmbeddingSize\": 4", "\"EmbeddingSize\": 60000"));

        var act = () => TrainedModel.Load(folder.Path);

        act.Should().Throw<InvalidDataException>().WithMessage("*CNN of * parameters, more than its *-byte weights file holds*");
    }

    /// <summary>Copies one network's parameters and buffers into another of the same shape.</summary>
    private static class StateCopy
    {
        internal static void CopyState(nn.Module from, nn.Module to)
        {
            using var _ = no_grad();
            var source = from.state_dict();
            foreach (var (key, tensor) in to.state_dict())
                tensor.copy_(source[key]);
        }
    }
}
