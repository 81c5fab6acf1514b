using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Models;

/// <summary>Saved parts found through their formats: the library's, a toy network's, and models saved before formats existed.</summary>
public sealed class PartCatalogueTests
{
    private static string Fixture(string name) => Path.Combine(Repository.Root, "tests", "MetricLearning.Tests", "Core", "Models", "Fixtures", "format-2", name);

    /// <summary>What the version that wrote the fixture computed (tests/.../Fixtures/format-2/*/expected.json).</summary>
    private sealed record Expected(float[][] Inputs, float[][] Embeddings, double Compare);

    /// <summary>
    /// Equal up to the last bits: libtorch picks its kernels by the CPU's instruction set (AVX2, AVX-512), so the
    /// fixture written on one CPU differs from another's sums in the last place (seen: 1 ulp between an Intel Xeon
    /// and an AMD EPYC). A wrong weight, layer or preprocessing step moves them by far more than this.
    /// </summary>
    private static bool SameUpToCpu(float actual, float expected) => Math.Abs(actual - expected) <= 1e-6f * Math.Max(1f, Math.Abs(expected));

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    public void A_model_saved_before_parts_had_formats_loads_and_embeds_exactly_as_it_did(string name)
    {
        var expected = JsonSerializer.Deserialize<Expected>(File.ReadAllText(Path.Combine(Fixture(name), "expected.json")), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;

        using var model = TrainedModel.Load(Fixture(name));

        var embeddings = model.Embed(expected.Inputs);
        for (int i = 0; i < embeddings.Length; i++)
            embeddings[i].Should().Equal(expected.Embeddings[i], SameUpToCpu, "the same weights, preprocessing and network give the same values");
        model.Compare(expected.Inputs[0], expected.Inputs[1]).Should().BeApproximately(expected.Compare, 1e-5 * Math.Max(1, Math.Abs(expected.Compare)));
    }

    [Fact]
    public void A_model_saved_before_formats_keeps_its_parts_settings()
    {
        using var mlp = TrainedModel.Load(Fixture("mlp"));
        using var cnn = TrainedModel.Load(Fixture("cnn"));

        var network = mlp.Network.Should().BeOfType<MlpEmbeddingNetwork>().Subject;
        network.Options.LayerSizes.Should().Equal(5, 4);
        network.Options.Activation.Should().Be(Activation.Tanh);
        mlp.Distance.Should().BeOfType<LpDistance>().Which.P.Should().Be(1.5);
        mlp.Preprocessing.Should().BeOfType<InputScaling>().Which.StandardDeviation.Should().Be(2f);
        mlp.ClassNames.Should().Equal("a", "b", "c");
        mlp.Threshold.Should().Be(0.75);
        cnn.Network.Should().BeOfType<ConvEmbeddingNetwork>().Which.Options.Channels.Should().Equal(4, 6);
        cnn.Distance.Should().BeOfType<CosineSimilarity>();
        cnn.Preprocessing.Should().BeOfType<ChannelNormalization>().Which.Mean.Should().Equal(0.5f, 0.4f, 0.3f);
        cnn.InputShape.Should().Equal(3, 8, 8);
    }

    [Fact]
    public void A_model_saved_before_formats_saves_again_in_todays_format_and_embeds_the_same()
    {
        using var folder = new TempFolder();
        using var old = TrainedModel.Load(Fixture("cnn"));
        var expected = JsonSerializer.Deserialize<Expected>(File.ReadAllText(Path.Combine(Fixture("cnn"), "expected.json")), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;

        old.Save(folder.Path);
        using var again = TrainedModel.Load(folder.Path);

        var description = JsonNode.Parse(File.ReadAllText(folder.File("model.json")))!;
        description["Format"]!.GetValue<string>().Should().Be("metriclearning-model/3");
        description["Network"]!["Type"]!.GetValue<string>().Should().Be("ConvEmbeddingNetwork");
        description["Network"]!["Settings"]!["Channels"]!.AsArray().Select(c => c!.GetValue<int>()).Should().Equal(4, 6);
        description["Preprocessing"]!["Settings"]!["std2"]!.GetValue<double>().Should().Be(0.3f);
        again.Embed(expected.Inputs[1]).Should().Equal(expected.Embeddings[1], SameUpToCpu);
    }

    [Fact]
    public void A_network_with_a_format_in_its_own_file_saves_and_loads_with_nothing_registered()
    {
        using var folder = new TempFolder();
        manual_seed(5);
        using var model = new TrainedModel(new ToyNetwork(new ToyNetwork.ToySettings(3, 2, 2.5)), new EuclideanDistance(), 1.0, inputShape: new long[] { 3 });
        var input = new[] { 0.5f, -1f, 2f };

        model.Save(folder.Path);
        manual_seed(6);
        using var loaded = TrainedModel.Load(folder.Path);

        var description = JsonNode.Parse(File.ReadAllText(folder.File("model.json")))!;
        description["Network"]!["Type"]!.GetValue<string>().Should().Be("Tests.ToyNetwork");
        description["Network"]!["Assembly"]!.GetValue<string>().Should().Be(typeof(ToyNetwork).Assembly.GetName().Name);
        loaded.Network.Should().BeOfType<ToyNetwork>().Which.Settings.Should().Be(new ToyNetwork.ToySettings(3, 2, 2.5));
        loaded.Embed(input).Should().Equal(model.Embed(input), "the saved weights replace the fresh ones");
    }

    [Fact]
    public void A_saved_toy_network_with_invalid_settings_is_refused_naming_the_file()
    {
        using var folder = new TempFolder();
        using (var model = new TrainedModel(new ToyNetwork(new ToyNetwork.ToySettings(3, 2, 1)), new EuclideanDistance(), 1.0, inputShape: new long[] { 3 }))
            model.Save(folder.Path);
        var description = JsonNode.Parse(File.ReadAllText(folder.File("model.json")))!;
        description["Network"]!["Settings"]!["Outputs"] = 0;
        File.WriteAllText(folder.File("model.json"), description.ToJsonString());

        var act = () => TrainedModel.Load(folder.Path);

        act.Should().Throw<InvalidDataException>().WithMessage($"*{folder.File("model.json")}*invalid Tests.ToyNetwork*one output*");
    }

    [Fact]
    public void A_part_whose_assembly_cannot_be_found_is_refused_naming_it_and_its_assembly()
    {
        using var folder = new TempFolder();
        using (var model = new TrainedModel(new MlpEmbeddingNetwork(new MlpOptions { InputSize = 2, LayerSizes = new[] { 2 } }), new EuclideanDistance(), 1.0))
            model.Save(folder.Path);
        var description = JsonNode.Parse(File.ReadAllText(folder.File("model.json")))!;
        description["Network"]!["Type"] = "Elsewhere.RadarNetwork";
        description["Network"]!["Assembly"] = "Elsewhere.Radar";
        File.WriteAllText(folder.File("model.json"), description.ToJsonString());

        var act = () => TrainedModel.Load(folder.Path);

        act.Should().Throw<InvalidDataException>().WithMessage("*network Elsewhere.RadarNetwork*assembly Elsewhere.Radar*");
    }

    [Fact]
    public void A_format_registered_by_hand_takes_precedence_over_the_one_its_assembly_declares()
    {
        using var folder = new TempFolder();
        using (var model = new TrainedModel(new MlpEmbeddingNetwork(new MlpOptions { InputSize = 2, LayerSizes = new[] { 2 } }), new EuclideanDistance(0.5), 1.0))
            model.Save(folder.Path);

        using var loaded = TrainedModel.Load(folder.Path, new ModelComponents().Add(new DoubledFloor()));

        loaded.Distance.Should().BeOfType<EuclideanDistance>().Which.Floor.Should().Be(1.0, "the registered format read the saved floor 0.5 and doubled it");
    }

    /// <summary>A format for a library distance, registered by hand: it reads the floor and doubles it, so that its use shows.</summary>
    private sealed class DoubledFloor : NumericPartFormat<EuclideanDistance>
    {
        public override string Name => nameof(EuclideanDistance);

        protected override System.Collections.Generic.IReadOnlyDictionary<string, double> Describe(EuclideanDistance part) =>
            new System.Collections.Generic.Dictionary<string, double> { ["floor"] = part.Floor };

        protected override EuclideanDistance Create(NumericSettings settings) => new(2 * settings.Get("floor"));
    }
}
