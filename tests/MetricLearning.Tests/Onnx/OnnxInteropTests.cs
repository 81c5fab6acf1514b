using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Onnx.Export;
using MetricLearning.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Onnx;

/// <summary>
/// Exported files checked outside .NET by tests/onnx-interop/check.py: Debian's python3-onnx checker accepts each
/// (full check, IR 8, opset 17), and Debian's PyTorch, loading the file's weights by name into the same architecture,
/// gives TorchSharp's embeddings.
/// </summary>
public sealed class OnnxInteropTests(ITestOutputHelper output)
{
    [OnnxPythonFact]
    public void The_MLP_file_passes_the_ONNX_checker_and_PyTorch_with_its_weights_gives_the_same_embeddings()
    {
        manual_seed(21);
        var options = new MlpOptions { LayerSizes = new List<int> { 128, 128, 64 }, Activation = Activation.Gelu };
        using var model = new TrainedModel(new MlpEmbeddingNetwork(options), new Distances.EuclideanDistance(), 0.8, new InputScaling(1f / 255f, 0.1307f, 0.3081f));
        Check(model, new
        {
            architecture = "mlp",
            input_size = options.InputSize,
            layer_sizes = options.LayerSizes,
            activation = options.Activation.ToString(),
            activate_last_layer = options.ActivateLastLayer,
        }, count: 200);
    }

    [OnnxPythonFact]
    public void The_CNN_file_passes_the_ONNX_checker_and_PyTorch_with_its_weights_gives_the_same_embeddings()
    {
        manual_seed(22);
        var options = new ConvOptions { InputChannels = 3, Channels = new List<int> { 8, 16 }, EmbeddingSize = 20 };
        var network = new ConvEmbeddingNetwork(options);
        OnnxExportTests.GiveBatchNormStatistics(network, new long[] { 3, 16, 16 });
        using var model = new TrainedModel(network, new Distances.CosineSimilarity(), 0.5, ChannelNormalization.ImageNet, new long[] { 3, 16, 16 });
        Check(model, new
        {
            architecture = "cnn",
            input_channels = options.InputChannels,
            channels = options.Channels,
            batch_norm = options.BatchNorm,
            embedding_size = options.EmbeddingSize,
        }, count: 100);
    }

    [OnnxPythonFact]
    public void The_ResNet18_file_passes_the_ONNX_checker_and_PyTorch_with_its_weights_gives_the_same_embeddings()
    {
        manual_seed(23);
        var options = new ResNetOptions { Depth = 18, EmbeddingSize = 32, BatchNormNeck = true, Normalize = true };
        var network = new ResNetEmbeddingNetwork(options);
        OnnxExportTests.GiveBatchNormStatistics(network, new long[] { 3, 32, 32 });
        using var model = new TrainedModel(network, new Distances.CosineSimilarity(), 0.5, ChannelNormalization.ImageNet, new long[] { 3, 32, 32 });
        Check(model, new
        {
            architecture = "resnet",
            depth = options.Depth,
            trunk_features = options.TrunkFeatures,
            embedding_size = options.EmbeddingSize,
            batch_norm_neck = options.BatchNormNeck,
            normalize = options.Normalize,
        }, count: 16);
    }

    /// <summary>Exports the model, writes its network's inputs and TorchSharp's embeddings of them, and runs check.py on them.</summary>
    private void Check(TrainedModel model, object architecture, int count)
    {
        using var folder = new TempFolder();
        model.ExportOnnx(folder.File("model.onnx"));
        var shape = model.InputShape!.ToArray();
        var raw = OnnxExportTests.RawInputs(count, (int)shape.Aggregate(1L, (a, b) => a * b), 255, seed: count);
        using var scope = NewDisposeScope();
        var inputs = tensor(raw.SelectMany(row => row).ToArray()).reshape(new[] { (long)count }.Concat(shape).ToArray());
        var networkInputs = model.Preprocessing.Apply(inputs).contiguous();
        Tensor embeddings;
        using (no_grad())
        {
            model.Network.Module.eval();
            embeddings = model.Network.Module.call(networkInputs).contiguous();
        }

        File.WriteAllBytes(folder.File("network_inputs.f32"), networkInputs.bytes.ToArray());
        File.WriteAllBytes(folder.File("expected.f32"), embeddings.bytes.ToArray());
        var node = JsonSerializer.SerializeToNode(architecture)!.AsObject();
        node["count"] = count;
        node["network_input_shape"] = JsonSerializer.SerializeToNode(networkInputs.shape.Skip(1).ToArray());
        node["embedding_size"] ??= model.Network.EmbeddingSize;
        File.WriteAllText(folder.File("case.json"), node.ToJsonString());

        var (exitCode, text) = RunCheck(folder.Path);
        output.WriteLine(text);
        exitCode.Should().Be(0, $"check.py accepts the file and PyTorch agrees:\n{text}");
        text.Should().Contain("max_abs_difference=");
    }

    private static (int ExitCode, string Output) RunCheck(string folder)
    {
        var (exitCode, output, errors) = DebianPython.Run(new[] { "tests", "onnx-interop", "check.py" }, folder);
        return (exitCode, output + errors);
    }
}
