using System;
using MetricLearning.Data;

namespace MetricLearning.Onnx.Export.Exporters;

/// <summary>Scaling as the library computes it: times the scale, minus the mean, divided by the standard deviation (each step only when it changes something).</summary>
internal sealed class InputScalingExporter : OnnxExporter<InputScaling>
{
    protected override string Export(InputScaling part, OnnxGraphBuilder graph, string input)
    {
        string x = input;
        if (part.Scale != 1f)
            x = graph.Node("Mul", new[] { x, graph.Constant(new[] { part.Scale }, Array.Empty<long>(), "preprocessing.scale") }, "preprocessing.scaled");
        if (part.IsScaleOnly)
            return x;
        x = graph.Node("Sub", new[] { x, graph.Constant(new[] { part.Mean }, Array.Empty<long>(), "preprocessing.mean") }, "preprocessing.centred");
        return graph.Node("Div", new[] { x, graph.Constant(new[] { part.StandardDeviation }, Array.Empty<long>(), "preprocessing.std") }, "preprocessing.standardised");
    }
}
