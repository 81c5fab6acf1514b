using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Onnx;
using MetricLearning.Onnx.Export;
using MetricLearning.Tests.Core.Models;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Onnx;

/// <summary>
/// Models exported to ONNX and served by ONNX Runtime (no torch in the serving path) give TorchSharp's embeddings,
/// distances and decisions: the MLP, the CNN and ResNet-18, on 1,000 inputs each, batched and one at a time.
/// </summary>
public sealed class OnnxExportTests
{
    /// <summary>How close ONNX Runtime's embeddings must be to TorchSharp's: relative to the embeddings' largest magnitude (at least 1).</summary>
    private const float Tolerance = 1e-5f;

    [Fact]
    public void The_MLP_with_its_scaling_embeds_in_ONNX_Runtime_as_in_TorchSharp_batched_and_one_at_a_time()
    {
        manual_seed(11);
        using var model = new TrainedModel(new MlpEmbeddingNetwork(), new Distances.EuclideanDistance(), 0.8, new InputScaling(1f / 255f, 0.1307f, 0.3081f));
        var inputs = RawInputs(1000, 784, 255, seed: 1);

        AssertSameEmbeddings(model, inputs, oneAtATime: 1000);
    }

    [Fact]
    public void The_CNN_with_batch_statistics_and_channel_normalisation_embeds_in_ONNX_Runtime_as_in_TorchSharp()
    {
        manual_seed(12);
        var network = new ConvEmbeddingNetwork(new ConvOptions { InputChannels = 3, Channels = new List<int> { 8, 16, 32 }, EmbeddingSize = 24 });
        GiveBatchNormStatistics(network, new long[] { 3, 28, 28 });
        using var model = new TrainedModel(network, new Distances.CosineSimilarity(), 0.5,
            new ChannelNormalization(1f / 255f, new[] { 0.5f, 0.4f, 0.3f }, new[] { 0.2f, 0.25f, 0.3f }), new long[] { 3, 28, 28 });
        var inputs = RawInputs(1000, 3 * 28 * 28, 255, seed: 2);

        AssertSameEmbeddings(model, inputs, oneAtATime: 200);
    }

    [Fact]
    public void ResNet18_with_its_neck_and_normalisation_embeds_in_ONNX_Runtime_as_in_TorchSharp()
    {
        manual_seed(13);
        var network = new ResNetEmbeddingNetwork(new ResNetOptions { Depth = 18, EmbeddingSize = 32, BatchNormNeck = true, Normalize = true });
        GiveBatchNormStatistics(network, new long[] { 3, 32, 32 });
        using var model = new TrainedModel(network, new Distances.CosineSimilarity(), 0.5, ChannelNormalization.ImageNet, new long[] { 3, 32, 32 });
        var inputs = RawInputs(1000, 3 * 32 * 32, 255, seed: 3);

        AssertSameEmbeddings(model, inputs, oneAtATime: 50);
    }

    [Fact]
    public void An_MLP_with_GELU_embeds_in_ONNX_Runtime_as_in_TorchSharp()
    {
        manual_seed(18);
        using var model = new TrainedModel(new MlpEmbeddingNetwork(new MlpOptions { InputSize = 64, LayerSizes = new List<int> { 32, 16 }, Activation = Activation.Gelu, ActivateLastLayer = true }),
            new Distances.CosineSimilarity(), 0.5, new InputScaling(0.1f, 1f, 2f));

        AssertSameEmbeddings(model, RawInputs(1000, 64, 30, seed: 8), oneAtATime: 100);
    }

    [Fact]
    public void ResNet50_with_its_bottleneck_blocks_embeds_in_ONNX_Runtime_as_in_TorchSharp()
    {
        manual_seed(19);
        var network = new ResNetEmbeddingNetwork(new ResNetOptions { Depth = 50, EmbeddingSize = 16, Normalize = false });
        GiveBatchNormStatistics(network, new long[] { 3, 32, 32 });
        using var model = new TrainedModel(network, new Distances.EuclideanDistance(), 1.0, ChannelNormalization.ImageNet, new long[] { 3, 32, 32 });

        AssertSameEmbeddings(model, RawInputs(64, 3 * 32 * 32, 255, seed: 9), oneAtATime: 4);
    }

    [Fact]
    public void The_file_carries_the_distance_threshold_class_names_and_input_shape_and_compares_and_verifies_as_the_model_does()
    {
        manual_seed(14);
        using var folder = new TempFolder();
        using var model = new TrainedModel(new MlpEmbeddingNetwork(new MlpOptions { InputSize = 12, LayerSizes = new List<int> { 16, 6 }, Activation = Activation.Tanh }),
            new Distances.LpDistance(1.5), 0.9, new InputScaling(0.5f), new long[] { 3, 4 }, new[] { "cat", "dog" });
        model.ExportOnnx(folder.File("model.onnx"));

        using var served = OnnxEmbeddingModel.Load(folder.File("model.onnx"));

        served.InputShape.Should().Equal(3, 4);
        served.EmbeddingSize.Should().Be(6);
        served.Threshold.Should().Be(0.9);
        served.ClassNames.Should().Equal("cat", "dog");
        served.Network.Should().Be("MlpEmbeddingNetwork");
        served.Distance.Name.Should().Be("LpDistance");
        served.Distance.Settings["p"].Should().Be(1.5);
        served.Distance.IsSimilarity.Should().BeFalse();
        var inputs = RawInputs(40, 12, 3, seed: 4);
        var decisions = new List<bool>();
        for (int i = 0; i + 1 < inputs.Length; i += 2)
        {
            double expected = model.Compare(inputs[i], inputs[i + 1]);
            served.Compare(inputs[i], inputs[i + 1]).Should().BeApproximately(expected, 1e-5 * Math.Max(1, Math.Abs(expected)));
            if (Math.Abs(expected - model.Threshold) > 1e-4)
                served.Verify(inputs[i], inputs[i + 1]).Should().Be(model.Verify(inputs[i], inputs[i + 1]));
            decisions.Add(served.Verify(inputs[i], inputs[i + 1]));
        }

        decisions.Should().Contain(true).And.Contain(false, "the pairs straddle the threshold, so both answers are checked");
    }

    [Fact]
    public void Every_distance_the_library_saves_is_computed_by_the_serving_package_as_by_torch()
    {
        manual_seed(15);
        using var first = randn(1, 9);
        using var second = randn(1, 9);
        float[] a = first.data<float>().ToArray(), b = second.data<float>().ToArray();
        IDistance[] distances =
        {
            new Distances.EuclideanDistance(), new Distances.SquaredEuclideanDistance(), new Distances.SquaredEuclideanDistance(normalize: true),
            new Distances.LpDistance(1), new Distances.LpDistance(3, normalize: true), new Distances.CosineDistance(), new Distances.CosineSimilarity(),
            new Distances.DotProductSimilarity(), new Distances.DotProductSimilarity(normalize: true),
        };
        foreach (var distance in distances)
        {
            var saved = PartCatalogue.Describe(distance);
            string json = new System.Text.Json.Nodes.JsonObject { ["Type"] = saved.Type, ["Settings"] = saved.Settings?.DeepClone() }.ToJsonString();
            var managed = MetricLearning.Distances.EmbeddingDistance.FromJson(json);
            using var expected = distance.Compute(first.to_type(ScalarType.Float64), second.to_type(ScalarType.Float64));

            managed.Compute(a, b).Should().BeApproximately(expected.item<double>(), 1e-9 * Math.Max(1, Math.Abs(expected.item<double>())), saved.Type);
            managed.IsSimilarity.Should().Be(distance.IsSimilarity, saved.Type);
        }
    }

    [Fact]
    public void A_network_of_your_own_exports_through_the_exporter_in_its_assembly()
    {
        manual_seed(16);
        using var model = new TrainedModel(new ToyNetwork(new ToyNetwork.ToySettings(5, 3, 2.5)), new Distances.EuclideanDistance(), 1.0, inputShape: new long[] { 5 });

        AssertSameEmbeddings(model, RawInputs(50, 5, 1, seed: 5), oneAtATime: 5);
    }

    [Fact]
    public void A_network_without_an_exporter_is_refused_naming_its_type_and_nothing_is_written()
    {
        using var folder = new TempFolder();
        using var model = new TrainedModel(new UnexportableNetwork(), new Distances.EuclideanDistance(), 1.0, inputShape: new long[] { 2 });

        var export = () => model.ExportOnnx(folder.File("model.onnx"));

        export.Should().Throw<NotSupportedException>().WithMessage($"*{typeof(UnexportableNetwork).FullName}*OnnxExporter<UnexportableNetwork>*");
        File.Exists(folder.File("model.onnx")).Should().BeFalse();
    }

    [Fact]
    public void An_exporter_passed_in_the_options_writes_a_network_whose_assembly_has_none()
    {
        using var folder = new TempFolder();
        using var model = new TrainedModel(new UnexportableNetwork(), new Distances.EuclideanDistance(), 1.0, inputShape: new long[] { 2 });
        var options = new OnnxExportOptions();
        options.Exporters.Add(new NegatingExporter("negated"));

        model.ExportOnnx(folder.File("model.onnx"), options);

        using var served = OnnxEmbeddingModel.Load(folder.File("model.onnx"));
        served.Embed(new[] { 1.5f, -2f }).Should().Equal(-1.5f, 2f);
    }

    [Fact]
    public async Task Inputs_of_the_wrong_size_or_not_finite_are_argument_errors_before_the_runtime_sees_them()
    {
        using var folder = new TempFolder();
        using var served = ExportedMlp(folder);

        served.Invoking(m => m.Embed(new float[11])).Should().Throw<ArgumentException>().WithMessage("*11 values*[12]*12 values*");
        served.Invoking(m => m.Embed(new float[1 << 20])).Should().Throw<ArgumentException>();
        var withNaN = new float[12];
        withNaN[3] = float.NaN;
        served.Invoking(m => m.Embed(withNaN)).Should().Throw<ArgumentException>().WithMessage("*NaN at position 3*");
        served.Invoking(m => m.Embed(new[] { new float[12], null! })).Should().Throw<ArgumentException>().WithMessage("Input 1 is null*");
        await served.Awaiting(m => m.EmbedAsync(new float[13])).Should().ThrowAsync<ArgumentException>().WithMessage("*13 values*");
        served.Embed(new float[12]).Should().HaveCount(6, "a right-sized input still embeds");
    }

    [Fact]
    public async Task Concurrent_callers_are_batched_and_each_gets_its_own_inputs_embedding()
    {
        using var folder = new TempFolder();
        // The first request of a run waits up to a second for others, so that requests share runs however slowly a
        // busy machine starts the callers (with no wait, each could find the batcher idle and run alone).
        using var served = ExportedMlp(folder, options: new OnnxModelOptions { MaxWait = TimeSpan.FromSeconds(1) });
        var inputs = RawInputs(256, 12, 1, seed: 6);
        var expected = served.Embed(inputs);

        var results = await Task.WhenAll(inputs.Select(input => Task.Run(() => served.EmbedAsync(input))));

        for (int i = 0; i < inputs.Length; i++)
            results[i].Should().Equal(expected[i], (x, y) => Math.Abs(x - y) <= 1e-6f, $"caller {i} gets its own input's embedding");
        served.Batches.Should().BeLessThan(inputs.Length, "concurrent requests share runs");
    }

    [Fact]
    public async Task A_disposed_model_refuses_calls()
    {
        using var folder = new TempFolder();
        var served = ExportedMlp(folder);
        served.Dispose();

        served.Invoking(m => m.Embed(new float[12])).Should().Throw<ObjectDisposedException>();
        await served.Awaiting(m => m.EmbedAsync(new float[12])).Should().ThrowAsync<ObjectDisposedException>();
    }

    /// <summary>Exports a small MLP (inputs [3, 4], 6-wide embeddings) and loads it for serving.</summary>
    internal static OnnxEmbeddingModel ExportedMlp(TempFolder folder, string name = "model.onnx", OnnxModelOptions? options = null)
    {
        manual_seed(17);
        using var model = new TrainedModel(new MlpEmbeddingNetwork(new MlpOptions { InputSize = 12, LayerSizes = new List<int> { 16, 6 } }),
            new Distances.EuclideanDistance(), 0.9, inputShape: new long[] { 12 });
        model.ExportOnnx(folder.File(name));
        return OnnxEmbeddingModel.Load(folder.File(name), options);
    }

    /// <summary>Exports, loads in ONNX Runtime, and compares every input's embedding with TorchSharp's: all in one run, and the first ones alone.</summary>
    private static void AssertSameEmbeddings(TrainedModel model, float[][] inputs, int oneAtATime)
    {
        using var folder = new TempFolder();
        model.ExportOnnx(folder.File("model.onnx"));
        var expected = model.Embed(inputs);
        using var served = OnnxEmbeddingModel.Load(folder.File("model.onnx"));

        var batched = served.Embed(inputs);
        float scale = Math.Max(1f, expected.Max(row => row.Max(Math.Abs)));
        float worst = 0;
        for (int i = 0; i < inputs.Length; i++)
        {
            worst = Math.Max(worst, MaxDifference(batched[i], expected[i]));
            if (i < oneAtATime)
                worst = Math.Max(worst, MaxDifference(served.Embed(inputs[i]), expected[i]));
        }

        worst.Should().BeLessThanOrEqualTo(Tolerance * scale, $"ONNX Runtime and TorchSharp compute the same network (largest magnitude {scale})");
        expected.SelectMany(row => row).Distinct().Count().Should().BeGreaterThan(inputs.Length, "the embeddings differ between inputs, so the comparison means something");
    }

    private static float MaxDifference(float[] actual, float[] expected)
    {
        actual.Should().HaveCount(expected.Length);
        return actual.Zip(expected, (a, b) => Math.Abs(a - b)).Max();
    }

    /// <summary>Runs training-mode passes so that every batch normalisation has running statistics other than its initial 0 and 1.</summary>
    internal static void GiveBatchNormStatistics(IEmbeddingNetwork network, long[] inputShape)
    {
        network.Module.train();
        using (no_grad())
        {
            for (int i = 0; i < 3; i++)
            {
                using var scope = NewDisposeScope();
                network.Module.call(randn(new[] { 16L }.Concat(inputShape).ToArray()) * 2 + 0.5);
            }
        }

        network.Module.eval();
    }

    internal static float[][] RawInputs(int count, int length, float range, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * range)).ToArray()).ToArray();
    }

    /// <summary>A network with no exporter anywhere.</summary>
    private sealed class UnexportableNetwork : nn.Module<Tensor, Tensor>, IEmbeddingNetwork
    {
        public UnexportableNetwork()
            : base(nameof(UnexportableNetwork))
        {
        }

        public long EmbeddingSize => 2;

        public nn.Module<Tensor, Tensor> Module => this;

        public override Tensor forward(Tensor input) => input.neg();
    }

    /// <summary>
    /// An exporter passed in the options, for a network whose assembly declares none; its constructor takes an
    /// argument, so that scanning this assembly does not find it.
    /// </summary>
    private sealed class NegatingExporter(string name) : OnnxExporter<UnexportableNetwork>
    {
        protected override string Export(UnexportableNetwork part, OnnxGraphBuilder graph, string input) => graph.Node("Neg", new[] { input }, name);
    }
}
