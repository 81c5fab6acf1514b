using System;
using System.IO;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Data;

public sealed class TrainedModelTests
{
    private static TrainedModel Model(int seed, IDistance distance, double threshold = 0.5)
    {
        manual_seed(seed);
        return new TrainedModel(new MlpEmbeddingNetwork(new MlpOptions { InputSize = 4, LayerSizes = new[] { 6, 3 } }), distance, threshold);
    }

    [Fact]
    public void A_saved_model_loads_back_and_embeds_and_verifies_the_same()
    {
        using var folder = new TempFolder();
        using var model = Model(1, new LpDistance(3, normalize: true), threshold: 0.8);
        using var a = rand(5, 4);
        using var b = rand(5, 4);
        model.Save(folder.Path);

        using var loaded = TrainedModel.Load(folder.Path);

        loaded.Threshold.Should().Be(0.8);
        loaded.Distance.Should().BeOfType<LpDistance>().Which.P.Should().Be(3);
        ((LpDistance)loaded.Distance).Normalize.Should().BeTrue();
        loaded.Network.Should().BeOfType<MlpEmbeddingNetwork>().Which.Options.LayerSizes.Should().Equal(6, 3);
        Tensors.Values(loaded.Embed(a)).Should().Equal(Tensors.Values(model.Embed(a)));
        loaded.Verify(a, b).Should().Equal(model.Verify(a, b));
        Directory.GetFiles(folder.Path).Should().HaveCount(2, "weights.bin and model.json, no temporary files");
        File.ReadAllText(Path.Combine(folder.Path, "model.json")).Should().Contain("\"Activation\": \"Relu\"").And.Contain("\"NetworkType\": \"MlpEmbeddingNetwork\"");
    }

    [Fact]
    public void Verify_reads_a_similarity_the_right_way_round()
    {
        using var model = Model(2, new CosineSimilarity(), threshold: 0.999);
        using var a = rand(3, 4);

        model.Verify(a, a).Should().OnlyContain(same => same, "an input is as similar as can be to itself");
    }

    [Fact]
    public void Weights_from_another_save_are_refused()
    {
        using var first = new TempFolder();
        using var second = new TempFolder();
        using (var model = Model(1, new EuclideanDistance()))
            model.Save(first.Path);
        using (var other = Model(2, new EuclideanDistance()))
            other.Save(second.Path);
        File.Copy(Path.Combine(second.Path, "weights.bin"), Path.Combine(first.Path, "weights.bin"), overwrite: true);

        var act = () => TrainedModel.Load(first.Path);

        act.Should().Throw<InvalidDataException>().WithMessage("*weights.bin*SHA-256 differs*");
    }

    [Fact]
    public void A_description_of_another_format_or_an_unknown_distance_is_refused()
    {
        using var folder = new TempFolder();
        using (var model = Model(1, new EuclideanDistance()))
            model.Save(folder.Path);
        string description = Path.Combine(folder.Path, "model.json");
        string original = File.ReadAllText(description);

        File.WriteAllText(description, original.Replace("metriclearning-model/1", "metriclearning-model/99"));
        var future = () => TrainedModel.Load(folder.Path);
        future.Should().Throw<InvalidDataException>().WithMessage("*metriclearning-model/99*");

        File.WriteAllText(description, original.Replace("\"EuclideanDistance\"", "\"WormholeDistance\""));
        var unknown = () => TrainedModel.Load(folder.Path);
        unknown.Should().Throw<InvalidDataException>().WithMessage("*WormholeDistance*");

        File.WriteAllText(description, "{ not json");
        var garbage = () => TrainedModel.Load(folder.Path);
        garbage.Should().Throw<InvalidDataException>().WithMessage("*not a model description*");
    }

    [Fact]
    public void A_custom_distance_cannot_be_saved()
    {
        using var folder = new TempFolder();
        using var model = Model(1, new CustomDistance());

        var act = () => model.Save(folder.Path);

        act.Should().Throw<NotSupportedException>().WithMessage("*CustomDistance*");
    }

    /// <summary>A network of the user's own: two linear layers with a tanh between.</summary>
    private sealed class TwoLayerNetwork : IEmbeddingNetwork
    {
        public TwoLayerNetwork(int hidden) =>
            Module = TorchSharp.torch.nn.Sequential(TorchSharp.torch.nn.Linear(4, hidden), TorchSharp.torch.nn.Tanh(), TorchSharp.torch.nn.Linear(hidden, 3));

        public long EmbeddingSize => 3;

        public TorchSharp.torch.nn.Module<Tensor, Tensor> Module { get; }
    }

    [Fact]
    public void A_network_of_the_users_own_saves_and_loads_into_the_network_its_factory_builds()
    {
        using var folder = new TempFolder();
        manual_seed(3);
        using var model = new TrainedModel(new TwoLayerNetwork(5), new CosineSimilarity(), 0.9);
        using var inputs = rand(4, 4);
        model.Save(folder.Path);

        var withoutFactory = () => TrainedModel.Load(folder.Path);
        var wrongType = () => TrainedModel.Load(folder.Path, () => new MlpEmbeddingNetwork(new MlpOptions { InputSize = 4, LayerSizes = new[] { 5, 3 } }));
        var wrongShape = () => TrainedModel.Load(folder.Path, () => new TwoLayerNetwork(7));
        manual_seed(99);
        using var loaded = TrainedModel.Load(folder.Path, () => new TwoLayerNetwork(5));

        withoutFactory.Should().Throw<InvalidDataException>().WithMessage("*TwoLayerNetwork*cannot rebuild*createNetwork*");
        wrongType.Should().Throw<InvalidDataException>().WithMessage("*TwoLayerNetwork*built a MlpEmbeddingNetwork*");
        wrongShape.Should().Throw<InvalidDataException>().WithMessage("*do not fit*");
        loaded.Threshold.Should().Be(0.9);
        Tensors.Values(loaded.Embed(inputs)).Should().Equal(Tensors.Values(model.Embed(inputs)), "the saved weights replace the factory's fresh ones");
    }

    [Fact]
    public void A_missing_folder_is_named()
    {
        var act = () => TrainedModel.Load("/no/such/model");

        act.Should().Throw<FileNotFoundException>().WithMessage("*/no/such/model*");
    }

    private sealed class CustomDistance : IDistance
    {
        public Tensor Compute(Tensor first, Tensor second) => (first - second).abs().sum(1);

        public Tensor ComputeMatrix(Tensor queries, Tensor references) => cdist(queries, references, 1);
    }
}
