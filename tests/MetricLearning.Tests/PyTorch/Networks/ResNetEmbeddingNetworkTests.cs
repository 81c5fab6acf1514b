using System;
using System.Collections.Generic;
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

public sealed class ResNetEmbeddingNetworkTests
{
    private static Dictionary<string, Tensor> Snapshot(nn.Module module) =>
        module.state_dict().ToDictionary(entry => entry.Key, entry => entry.Value.detach().clone());

    [Fact]
    public void It_embeds_RGB_images_to_unit_vectors_with_TorchVisions_trunk_and_refuses_other_inputs()
    {
        manual_seed(1);
        using var network = new ResNetEmbeddingNetwork(new ResNetOptions { EmbeddingSize = 16 });
        network.eval();
        using var images = rand(3, 3, 32, 32);

        using var embedded = network.forward(images);
        using var norms = embedded.norm(1);

        embedded.shape.Should().Equal(3, 16);
        Tensors.Values(norms).Should().AllSatisfy(norm => norm.Should().BeApproximately(1f, 1e-5f));
        // TorchVision's ResNet-18 without its 512x1000 classifier (11,689,512 parameters with it), plus the head.
        long parameters = network.parameters().Sum(p => p.numel());
        parameters.Should().Be(11_689_512 - (512 * 1000 + 1000) + (512 * 16 + 16));
        network.state_dict().Keys.Should().Contain(new[] { "trunk.conv1.weight", "trunk.layer4.1.bn2.running_var", "embed.weight" })
            .And.NotContain(key => key.StartsWith("trunk.fc", StringComparison.Ordinal));
        var gray = () => network.forward(zeros(2, 1, 32, 32));
        gray.Should().Throw<ArgumentException>().WithMessage("*RGB images of shape [N, 3, H, W]*[2, 1, 32, 32]*");
    }

    [Fact]
    public void The_head_learns_at_the_trainers_rate_and_the_trunk_at_its_scale()
    {
        using var network = new ResNetEmbeddingNetwork(new ResNetOptions { EmbeddingSize = 8, BatchNormNeck = true, TrunkLearningRateScale = 0.25 });

        var groups = network.ParameterGroups;

        groups.Select(group => (group.Name, group.LearningRateScale)).Should().Equal(("head", 1.0), ("trunk", 0.25));
        groups[0].Parameters.Sum(p => p.numel()).Should().Be(512 * 8 + 8 + 2 * 8, "linear 512 -> 8 and the neck's scale and shift");
        groups.Sum(group => group.Parameters.Count).Should().Be(network.parameters().Count());
        var bad = () => new ResNetEmbeddingNetwork(new ResNetOptions { Depth = 20 });
        bad.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Depth must be 18, 34 or 50*");
    }

    [Fact]
    public void A_frozen_trunk_keeps_its_weights_and_statistics_while_the_head_learns_then_trains_after()
    {
        manual_seed(3);
        var random = new Random(3);
        var labels = Enumerable.Range(0, 16).Select(i => i % 4).ToArray();
        using var images = rand(16, 3, 32, 32);
        using var inputs = new InputSet(images.clone());
        using var network = new ResNetEmbeddingNetwork(new ResNetOptions { EmbeddingSize = 8, FreezeTrunkEpochs = 1 });
        var before = Snapshot(network);
        var options = new EmbeddingTrainerOptions { Epochs = 1, SamplesPerClass = 2, BatchSize = 8, Seed = 3 };

        new EmbeddingTrainer(new MultiSimilarityLoss(), options).Fit(network, inputs, labels);

        var after = Snapshot(network);
        foreach (var key in before.Keys.Where(key => key.StartsWith("trunk.", StringComparison.Ordinal)))
            Tensors.Identical(after[key], before[key]).Should().BeTrue($"{key} is in the frozen trunk");
        Tensors.Identical(after["embed.weight"], before["embed.weight"]).Should().BeFalse("the head learns while the trunk is frozen");
        network.IsTrunkFrozen().Should().BeTrue();

        // Gradients from earlier training must not move a frozen trunk, and switching modes keeps it in evaluation.
        network.train();
        foreach (var parameter in network.Trunk.parameters())
            parameter.grad = ones_like(parameter);
        network.BeginEpoch(1);
        network.Trunk.parameters().Should().OnlyContain(p => ReferenceEquals(p.grad, null) && !p.requires_grad);
        network.eval();
        network.train();
        network.Trunk.training.Should().BeFalse("a frozen trunk keeps its batch-norm statistics in every mode");

        network.BeginEpoch(2);
        network.IsTrunkFrozen().Should().BeFalse();
        network.Trunk.parameters().Should().OnlyContain(p => p.requires_grad);
        network.Trunk.training.Should().BeTrue("an unfrozen trunk updates its batch statistics again");
        foreach (var tensor in before.Values.Concat(after.Values))
            tensor.Dispose();
    }

    [Fact]
    public void A_saved_ResNet_model_with_its_channel_normalisation_loads_and_embeds_raw_pixels_alike()
    {
        using var folder = new TempFolder();
        manual_seed(4);
        using var pixels = randint(0, 256, new long[] { 4, 3, 32, 32 }).to_type(ScalarType.Byte);
        var normalization = ChannelNormalization.Measure(pixels);
        using var network = new ResNetEmbeddingNetwork(new ResNetOptions { EmbeddingSize = 8, BatchNormNeck = true });
        using (no_grad())
        {
            foreach (var (key, tensor) in network.state_dict().Where(entry => entry.Key.EndsWith("running_mean", StringComparison.Ordinal)))
                tensor.uniform_(-0.2, 0.2);
        }

        using var model = new TrainedModel(network, new CosineSimilarity(), 0.5, normalization, new long[] { 3, 32, 32 });
        using var expected = model.Embed(pixels);
        model.Save(folder.Path);

        using var loaded = TrainedModel.Load(folder.Path);
        using var actual = loaded.Embed(pixels);

        loaded.Network.Should().BeOfType<ResNetEmbeddingNetwork>().Which.Options.BatchNormNeck.Should().BeTrue();
        var loadedNormalization = loaded.Preprocessing.Should().BeOfType<ChannelNormalization>().Subject;
        loadedNormalization.Mean.Should().Equal(normalization.Mean);
        loadedNormalization.StandardDeviation.Should().Equal(normalization.StandardDeviation);
        actual.allclose(expected, rtol: 1e-5, atol: 1e-6).Should().BeTrue();
    }
}
