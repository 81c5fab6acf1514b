using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using MetricLearning.Data;
using MetricLearning.Evaluation;
using MetricLearning.Indexing;
using MetricLearning.Mnist;
using MetricLearning.Models;
using MetricLearning.Reports;
using MetricLearning.Training;
using TorchSharp;

namespace SiameseMnist;

/// <summary>The run's report (--report DIR): curves, distance histograms, ROC, projection and neighbour grid.</summary>
internal static class ReportWriter
{
    /// <summary>Test images shown in the projection.</summary>
    private const int ProjectedImages = 3000;

    internal static string Write(
        string folder,
        ExperimentSettings settings,
        IReadOnlyList<EpochReport> epochs,
        SiameseNetwork model,
        MnistSplit train,
        InputSet trainInputs,
        MnistSplit test,
        InputSet testInputs,
        PairDataset testPairs,
        Calibration calibration,
        double threshold)
    {
        var culture = CultureInfo.InvariantCulture;
        var report = new TrainingReport($"Siamese MLP on {(settings.SourceFolder is null ? "MNIST" : settings.SourceFolder)}, seed {settings.Seed}")
            .AddSetting("epochs", settings.Epochs.ToString(culture))
            .AddSetting("batch size", settings.BatchSize.ToString(culture))
            .AddSetting("seed", settings.Seed.ToString(culture))
            .AddSetting("threads", MetricLearning.Runtime.TorchRuntime.ThreadCount.ToString(culture))
            .AddSetting("training images", train.Count.ToString(culture))
            .AddSetting("network", $"{train.InputSize}-128-128-128 MLP, ReLU, dropout 0.1")
            .AddSetting("loss", "contrastive, margin 1")
            .AddSetting("optimizer", MetricLearning.Mnist.SiameseMnistPreset.TrainerOptions().Optimizer.ToString())
            .AddFigure("test pair accuracy at 0.5", $"{100 * epochs[^1].ValidationAccuracy!.Value:F2}%")
            .AddFigure("training pair accuracy", $"{100 * epochs[^1].TrainAccuracy!.Value:F2}%")
            .AddFigure("calibrated threshold", calibration.Threshold.ToString("F4", culture))
            .AddFigure("test pair accuracy at it", $"{100 * calibration.TestAccuracy:F2}%")
            .AddFigure("test ROC AUC", calibration.Test.RocAuc.ToString("F4", culture))
            .AddFigure("test equal error rate", $"{100 * calibration.Test.EqualErrorRate:F2}%")
            .AddEpochs(epochs)
            .AddScoreHistograms(calibration.TestScores, testPairs.Pairs.IsSame, model.Distance.IsSimilarity,
                new[] { (threshold.ToString(culture), threshold), ("calibrated", calibration.Threshold) })
            .AddRocCurve(calibration.TestScores, testPairs.Pairs.IsSame, model.Distance.IsSimilarity, calibration.Threshold);

        using var scope = torch.NewDisposeScope();
        var testEmbeddings = Embedder.EmbedAll(model.Embedding, testInputs);
        int shown = (int)Math.Min(ProjectedImages, testEmbeddings.shape[0]);
        report.AddProjection(testEmbeddings.narrow(0, 0, shown), test.Labels.Take(shown).ToArray());

        // Queries: the first four test images whose nearest training image is of another class, then four that are right.
        using var index = new EmbeddingIndex(model.Distance);
        index.Add(Embedder.EmbedAll(model.Embedding, trainInputs), train.Labels);
        var hostQueries = testEmbeddings.narrow(0, 0, Math.Min(2000, testEmbeddings.shape[0])).cpu().contiguous();
        int width = (int)hostQueries.shape[1];
        var values = hostQueries.data<float>().ToArray();
        var wrong = new List<(int Query, IReadOnlyList<Neighbour> Neighbours)>();
        var right = new List<(int Query, IReadOnlyList<Neighbour> Neighbours)>();
        for (int q = 0; q < hostQueries.shape[0] && (wrong.Count < 4 || right.Count < 4); q++)
        {
            var neighbours = index.Search(values.AsSpan(q * width, width), 5);
            var bucket = neighbours[0].Label == test.Labels[q] ? right : wrong;
            if (bucket.Count < 4)
                bucket.Add((q, neighbours));
        }

        byte[] Pixels(MnistSplit split, long i) => split.Pixels.Slice((int)i * split.InputSize, split.InputSize).ToArray();
        var rows = wrong.Concat(right)
            .Select(item => new NeighbourRow(Pixels(test, item.Query),
                item.Neighbours.Select(n => (Pixels(train, n.Key), n.Label == test.Labels[item.Query])).ToArray()))
            .ToArray();
        if (rows.Length > 0)
            report.AddNeighbourGrid(rows, test.ImageHeight, test.ImageWidth);
        return report.Write(folder);
    }
}
