using System;
using MetricLearning.Onnx.Export;
using MetricLearning.Tests.Core.Models;

namespace MetricLearning.Tests.Onnx;

/// <summary>
/// A user's network exported the way the built-in ones are: an exporter in the network's own assembly (this test
/// assembly), found without registration.
/// </summary>
internal sealed class ToyNetworkExporter : OnnxExporter<ToyNetwork>
{
    protected override string Export(ToyNetwork part, OnnxGraphBuilder graph, string input)
    {
        string linear = string.Empty;
        foreach (var (name, layer) in part.named_children())
            linear = graph.Layer(layer, input, name);
        return graph.Node("Mul", new[] { linear, graph.Constant(new[] { (float)part.Settings.Gain }, Array.Empty<long>(), "gain") }, "scaled");
    }
}
