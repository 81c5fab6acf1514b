using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using MetricLearning.Models;
using Onnx;

namespace MetricLearning.Onnx.Export;

/// <summary>Exports a <see cref="TrainedModel"/> to an ONNX file that ONNX Runtime (and so <c>MetricLearning.Onnx</c>) runs without libtorch.</summary>
public static class TrainedModelOnnxExtensions
{
    /// <summary>The ONNX IR version written (Debian's <c>python3-onnx</c> 1.12 checks up to 8).</summary>
    public const int IrVersion = 8;

    /// <summary>
    /// Writes the model as one ONNX file: its preprocessing and network, in evaluation mode, from raw inputs
    /// <c>input</c> <c>[batch, ...InputShape]</c> (float32, any batch size) to embeddings <c>embedding</c>
    /// <c>[batch, EmbeddingSize]</c>, with the distance, threshold, class names and input shape as metadata
    /// properties (<c>metriclearning.*</c>). The file is replaced atomically: it is complete or untouched.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="path">The file to write; its folder is created if missing.</param>
    /// <param name="options">Exporters of your own, the graph's name; null for the defaults.</param>
    /// <exception cref="NotSupportedException">No exporter writes the model's network or preprocessing, or a layer of it has no ONNX form; the message names it.</exception>
    /// <exception cref="InvalidOperationException">The model does not know its input shape, or its preprocessing does not fit it.</exception>
    /// <exception cref="ArgumentException">A weight is not finite, or <see cref="OnnxExportOptions.Exporters"/> holds null.</exception>
    /// <exception cref="ObjectDisposedException">The model is disposed.</exception>
    /// <exception cref="IOException">The file cannot be written; an existing file is left as it was.</exception>
    public static void ExportOnnx(this TrainedModel model, string path, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        model.ThrowIfDisposed();
        byte[] bytes = ToOnnx(model, options ?? new OnnxExportOptions()).ToByteArray();
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        AtomicFile.Write(full, temporary => File.WriteAllBytes(temporary, bytes));
    }

    /// <summary>The model as an ONNX model message, built in memory.</summary>
    internal static ModelProto ToOnnx(TrainedModel model, OnnxExportOptions options)
    {
        var inputShape = model.InputShape ?? throw new InvalidOperationException(
            "This model does not know the shape of its inputs, which an ONNX graph's input declares; create it with an inputShape.");
        var networkExporter = OnnxExporterCatalogue.Find(model.Network, "network", options.Exporters);
        var preprocessingExporter = OnnxExporterCatalogue.Find(model.Preprocessing, "preprocessing", options.Exporters);

        var graph = new GraphProto { Name = string.IsNullOrWhiteSpace(options.GraphName) ? "metriclearning" : options.GraphName };
        var builder = new OnnxGraphBuilder(graph, inputShape, new[] { OnnxMetadataKeys.InputName, OnnxMetadataKeys.OutputName });
        graph.Input.Add(FloatTensor(OnnxMetadataKeys.InputName, inputShape.ToArray()));
        string prepared = preprocessingExporter.Export(model.Preprocessing, builder, OnnxMetadataKeys.InputName);
        string embedded = networkExporter.Export(model.Network, builder, prepared);
        var output = new NodeProto { OpType = "Identity", Name = OnnxMetadataKeys.OutputName };
        output.Input.Add(embedded);
        output.Output.Add(OnnxMetadataKeys.OutputName);
        graph.Node.Add(output);
        graph.Output.Add(FloatTensor(OnnxMetadataKeys.OutputName, new[] { model.Network.EmbeddingSize }));

        string version = typeof(TrainedModel).Assembly.GetName().Version?.ToString() ?? "unknown";
        var onnx = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "MetricLearning",
            ProducerVersion = version,
            Graph = graph,
        };
        onnx.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxGraphBuilder.Opset });
        var distance = PartCatalogue.Describe(model.Distance);
        var network = PartCatalogue.Describe(model.Network);
        Metadata(onnx, OnnxMetadataKeys.Format, OnnxMetadataKeys.FormatName);
        Metadata(onnx, OnnxMetadataKeys.LibraryVersion, version);
        Metadata(onnx, OnnxMetadataKeys.Network, network.Type);
        Metadata(onnx, OnnxMetadataKeys.Preprocessing, model.Preprocessing.ToString() ?? model.Preprocessing.GetType().Name);
        Metadata(onnx, OnnxMetadataKeys.Distance, new JsonObject { ["Type"] = distance.Type, ["Settings"] = distance.Settings?.DeepClone() }.ToJsonString());
        Metadata(onnx, OnnxMetadataKeys.Threshold, model.Threshold.ToString("R", CultureInfo.InvariantCulture));
        Metadata(onnx, OnnxMetadataKeys.InputShape, JsonSerializer.Serialize(inputShape));
        Metadata(onnx, OnnxMetadataKeys.EmbeddingSize, model.Network.EmbeddingSize.ToString(CultureInfo.InvariantCulture));
        if (model.ClassNames is { } classNames)
            Metadata(onnx, OnnxMetadataKeys.ClassNames, JsonSerializer.Serialize(classNames));
        Metadata(onnx, OnnxMetadataKeys.Checksum, OnnxMetadataKeys.ComputeChecksum(
            graph.ToByteArray(), onnx.IrVersion, onnx.OpsetImport.Select(o => (o.Domain, o.Version)),
            onnx.MetadataProps.Select(p => new KeyValuePair<string, string>(p.Key, p.Value))));
        return onnx;
    }

    private static void Metadata(ModelProto onnx, string key, string value) => onnx.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });

    /// <summary>A float32 tensor value of shape <c>[batch, ...]</c>, the batch dimension named and free.</summary>
    private static ValueInfoProto FloatTensor(string name, long[] shape)
    {
        var dims = new TensorShapeProto();
        dims.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        foreach (long size in shape)
            dims.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = size });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = dims } },
        };
    }
}
