using System;
using System.Collections.Generic;
using System.Linq;
using MetricLearning.Onnx.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MetricLearning.Networks;

/// <summary>
/// The ResNet embedding network in ONNX: TorchVision's trunk (stem, residual stages of basic or bottleneck blocks,
/// global pooling), the embedding layer, the batch-norm neck when there is one, and the L2 normalisation when set.
/// </summary>
internal sealed class ResNetEmbeddingNetworkExporter : OnnxExporter<ResNetEmbeddingNetwork>
{
    protected override string Export(ResNetEmbeddingNetwork part, OnnxGraphBuilder graph, string input)
    {
        var children = part.named_children().ToDictionary(child => child.name, child => child.module);
        string x = input;
        foreach (var (name, stage) in ((Sequential)children["trunk"]).named_children())
        {
            if (!name.StartsWith("layer", StringComparison.Ordinal))
            {
                x = graph.Layer(stage, x, $"trunk.{name}");
                continue;
            }

            foreach (var (index, block) in ((Sequential)stage).named_children())
                x = Block(block, graph, x, $"trunk.{name}.{index}");
        }

        x = graph.Layer(children["embed"], x, "embed");
        if (children.TryGetValue("neck", out var neck))
            x = graph.Layer(neck, x, "neck");
        return part.Options.Normalize ? graph.L2Normalize(x, "normalize") : x;
    }

    /// <summary>
    /// One residual block as TorchVision computes it: conv1, bn1, ReLU, conv2, bn2 (a bottleneck goes on: ReLU,
    /// conv3, bn3), plus the input or its downsampling, then ReLU.
    /// </summary>
    private static string Block(nn.Module block, OnnxGraphBuilder graph, string input, string name)
    {
        var layers = block.named_children().ToDictionary(child => child.name, child => child.module);
        string[] path = layers.ContainsKey("conv3")
            ? new[] { "conv1", "bn1", "relu", "conv2", "bn2", "relu", "conv3", "bn3" }
            : new[] { "conv1", "bn1", "relu", "conv2", "bn2" };
        string x = input;
        foreach (string step in path)
        {
            if (step == "relu")
            {
                x = graph.Node("Relu", new[] { x }, $"{name}.relu");
                continue;
            }

            x = graph.Layer(layers.TryGetValue(step, out var layer) ? layer : throw Unexpected(block, name, step), x, $"{name}.{step}");
        }

        string identity = layers.TryGetValue("downsample", out var downsample) ? graph.Layer(downsample, input, $"{name}.downsample") : input;
        string sum = graph.Node("Add", new[] { x, identity }, $"{name}.add");
        return graph.Node("Relu", new[] { sum }, $"{name}.out");
    }

    private static NotSupportedException Unexpected(nn.Module block, string name, string missing) => new(
        $"The residual block '{name}' ({block.GetType().Name}) has no layer '{missing}'; its layers are {string.Join(", ", block.named_children().Select(child => child.name))}. " +
        "Only TorchVision's basic and bottleneck blocks are exported.");
}
