using System.Linq;
using MetricLearning.Data;

namespace MetricLearning.Onnx.Export.Exporters;

/// <summary>Per-channel normalisation as the library computes it: times scale/std, minus mean/std, per channel (inputs <c>[N, C, ...]</c>).</summary>
internal sealed class ChannelNormalizationExporter : OnnxExporter<ChannelNormalization>
{
    protected override string Export(ChannelNormalization part, OnnxGraphBuilder graph, string input)
    {
        if (graph.InputShape.Count < 2 || graph.InputShape[0] != part.Channels)
            throw new System.InvalidOperationException(
                $"The model's inputs have shape [{string.Join(", ", graph.InputShape)}], but its ChannelNormalization normalises {part.Channels} channel(s) of [C, ...] inputs.");
        // The same float32 constants the library makes (ChannelNormalization.Apply), so the same roundings.
        float[] factor = part.StandardDeviation.Select(d => part.Scale / d).ToArray();
        float[] shift = part.Mean.Select((m, c) => m / part.StandardDeviation[c]).ToArray();
        // [C, 1, ...]: broadcast over the batch and every dimension after the channels.
        long[] shape = new long[graph.InputShape.Count];
        System.Array.Fill(shape, 1L);
        shape[0] = part.Channels;
        string scaled = graph.Node("Mul", new[] { input, graph.Constant(factor, shape, "preprocessing.factor") }, "preprocessing.scaled");
        return graph.Node("Sub", new[] { scaled, graph.Constant(shift, shape, "preprocessing.shift") }, "preprocessing.normalised");
    }
}
