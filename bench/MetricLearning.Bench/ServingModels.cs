using System;
using System.IO;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Onnx.Export;
using static TorchSharp.torch;

namespace MetricLearning.Bench;

/// <summary>
/// The models bench/compare-serving.sh serves with TorchSharp and with ONNX Runtime: the reference MLP (784 → 128 →
/// 128 → 128, pixels / 255) and the small CNN (1 → 32 → 64 → 128 channels on 28x28, MNIST's normalisation), seeded
/// and untrained (the figures measured are sizes and speeds, which weights do not change).
/// </summary>
internal static class ServingModels
{
    internal static int Write(string folder)
    {
        Directory.CreateDirectory(folder);
        manual_seed(1);
        using (var mlp = new TrainedModel(new MlpEmbeddingNetwork(), new EuclideanDistance(), 0.5, new InputScaling(1f / 255f)))
            Save(mlp, folder, "mlp");
        manual_seed(2);
        using (var cnn = new TrainedModel(new ConvEmbeddingNetwork(), new CosineSimilarity(), 0.5,
            new ChannelNormalization(1f / 255f, new[] { 0.1307f }, new[] { 0.3081f }), new long[] { 1, 28, 28 }))
            Save(cnn, folder, "cnn");
        return 0;
    }

    private static void Save(TrainedModel model, string folder, string name)
    {
        model.Save(Path.Combine(folder, name));
        model.ExportOnnx(Path.Combine(folder, name + ".onnx"));
        Console.WriteLine($"wrote {Path.Combine(folder, name)}/ and {name}.onnx");
    }
}
