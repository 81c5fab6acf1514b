using MetricLearning.Networks;

namespace MetricLearning.Onnx.Export.Exporters;

/// <summary>The small CNN: its blocks (convolution, batch normalisation with running statistics, pooling, ReLU), global average pooling and the embedding layer.</summary>
internal sealed class ConvEmbeddingNetworkExporter : OnnxExporter<ConvEmbeddingNetwork>
{
    protected override string Export(ConvEmbeddingNetwork part, OnnxGraphBuilder graph, string input)
    {
        string x = input;
        foreach (var (name, layer) in part.named_children())
            x = graph.Layer(layer, x, name);
        return x;
    }
}
