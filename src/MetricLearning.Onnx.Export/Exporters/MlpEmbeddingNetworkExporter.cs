using MetricLearning.Networks;

namespace MetricLearning.Onnx.Export.Exporters;

/// <summary>The MLP: flatten each input, then its dense layers and activations (dropout is off in evaluation).</summary>
internal sealed class MlpEmbeddingNetworkExporter : OnnxExporter<MlpEmbeddingNetwork>
{
    protected override string Export(MlpEmbeddingNetwork part, OnnxGraphBuilder graph, string input)
    {
        string x = graph.Node("Flatten", new[] { input }, "flatten", OnnxAttribute.Int("axis", 1));
        foreach (var (name, layer) in part.named_children())
            x = graph.Layer(layer, x, name);
        return x;
    }
}
