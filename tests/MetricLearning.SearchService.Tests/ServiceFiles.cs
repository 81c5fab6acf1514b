using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using MetricLearning.Distances;
using MetricLearning.Data;
using MetricLearning.Indexing;
using MetricLearning.Models;
using MetricLearning.Onnx.Export;
using MetricLearning.Networks;

namespace MetricLearning.SearchService.Tests;

/// <summary>
/// What the service serves, made here: 120 synthetic 28x28 "digits" in an IDX file (each a different pattern whose
/// bounding box is exactly the central 20x20, as MNIST's are), an untrained model over 784 pixels, and both kinds of
/// index of the model's embeddings of those images.
/// </summary>
public sealed class ServiceFiles : IDisposable
{
    public const int Count = 120, Side = 28;

    public ServiceFiles()
    {
        Folder = Path.Combine(Path.GetTempPath(), "metriclearning-search-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
        var random = new Random(11);
        Pixels = new byte[Count * Side * Side];
        for (int i = 0; i < Count; i++)
        {
            for (int y = 4; y < 24; y++)
            {
                for (int x = 4; x < 24; x++)
                    Pixels[i * Side * Side + y * Side + x] = (byte)(random.Next(3) == 0 ? random.Next(100, 256) : 0);
            }

            foreach (var (x, y) in new[] { (4, 4), (23, 4), (4, 23), (23, 23) })
                Pixels[i * Side * Side + y * Side + x] = 255; // the box's corners: its bounding box is the 20x20 centre
        }

        Labels = Enumerable.Range(0, Count).Select(i => i % 10).ToArray();
        var header = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(header, 0x0803);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), Count);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), Side);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), Side);
        File.WriteAllBytes(ImagesPath, header.Concat(Pixels).ToArray());

        using (var network = new MlpEmbeddingNetwork(new MlpOptions { InputSize = Side * Side, LayerSizes = new[] { 64, 16 } }))
            new TrainedModel(network, new CosineSimilarity(), 0.5, new InputScaling(1f / 255f), new long[] { Side * Side }).Save(ModelFolder);
        using var model = TrainedModel.Load(ModelFolder);
        model.ExportOnnx(OnnxModelPath);
        Embeddings = model.Embed(Enumerable.Range(0, Count).Select(Input).ToArray());
        using (var exact = new EmbeddingIndex(new CosineSimilarity()))
        {
            exact.Add(Embeddings, Labels);
            exact.Save(ExactIndexPath);
        }

        using var approximate = new ApproximateIndex(16, IndexMetric.Cosine);
        approximate.Add(Enumerable.Range(0, Count).Select(i => (long)i).ToArray(), Embeddings, Labels);
        approximate.Save(ApproximateIndexPath);
    }

    public string Folder { get; }

    public string ModelFolder => Path.Combine(Folder, "model");

    /// <summary>The same model exported to ONNX, for the service's --runtime onnx.</summary>
    public string OnnxModelPath => Path.Combine(Folder, "model.onnx");

    /// <summary>What --model takes for a runtime: the model folder for torch, the ONNX file for onnx.</summary>
    public string Model(string runtime) => runtime == "onnx" ? OnnxModelPath : ModelFolder;

    public string ImagesPath => Path.Combine(Folder, "images.idx");

    public string ExactIndexPath => Path.Combine(Folder, "index.bin");

    public string ApproximateIndexPath => Path.Combine(Folder, "index.ann");

    public byte[] Pixels { get; }

    public int[] Labels { get; }

    public float[][] Embeddings { get; }

    /// <summary>Image i's pixels as the model's raw input (0-255).</summary>
    public float[] Input(int i) => Pixels.Skip(i * Side * Side).Take(Side * Side).Select(p => (float)p).ToArray();

    /// <summary>Image i as a PNG file of its own (what a person would upload).</summary>
    public string Png(int i)
    {
        string path = Path.Combine(Folder, $"image-{i}.png");
        File.WriteAllBytes(path, global::SearchService.DigitImages.ToPng(Pixels.AsSpan(i * Side * Side, Side * Side), Side, Side));
        return path;
    }

    public void Dispose()
    {
        if (Directory.Exists(Folder))
            Directory.Delete(Folder, recursive: true);
    }
}
