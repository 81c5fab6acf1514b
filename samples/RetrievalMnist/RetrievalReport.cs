using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using MetricLearning;
using MetricLearning.Evaluation;
using MetricLearning.Indexing;
using MetricLearning.Mnist;
using MetricLearning.Reports;
using MetricLearning.Training;
using static TorchSharp.torch;

/// <summary>The retrieval sample's report (--report DIR).</summary>
internal static class RetrievalReport
{
    /// <summary>Four test queries whose nearest training image is of another class, then four that are right, each with its 5 nearest.</summary>
    internal static List<(int Query, long[] Positions, int[] Labels)> Neighbours(Tensor queries, Tensor references, IDistance comparison, IReadOnlyList<int> queryLabels, IReadOnlyList<int> referenceLabels)
    {
        using var index = new EmbeddingIndex(comparison);
        index.Add(references, referenceLabels);
        using var firstQueries = queries.narrow(0, 0, Math.Min(2000, queries.shape[0]));
        var matches = index.Search(firstQueries, 5);
        var wrong = new List<(int, long[], int[])>();
        var right = new List<(int, long[], int[])>();
        for (int q = 0; q < matches.Labels.Count && (wrong.Count < 4 || right.Count < 4); q++)
        {
            var bucket = matches.Labels[q][0] == queryLabels[q] ? right : wrong;
            if (bucket.Count < 4)
                bucket.Add((q, matches.Indices[q].ToArray(), matches.Labels[q].ToArray()));
        }

        return wrong.Concat(right).ToList();
    }

    internal static string Write(
        string folder,
        EmbeddingTrainerOptions options,
        string loss,
        string miner,
        IReadOnlyList<EmbeddingEpochReport> epochs,
        RetrievalMetrics retrieval,
        MnistDataset data,
        Tensor queries,
        float[] testScores,
        IReadOnlyList<bool> sameClass,
        bool isSimilarity,
        double threshold,
        double accuracy,
        VerificationMetrics test,
        List<(int Query, long[] Positions, int[] Labels)> nearest)
    {
        var culture = CultureInfo.InvariantCulture;
        var report = new TrainingReport($"Retrieval on MNIST-layout data: {loss} loss, {miner} miner, seed {options.Seed}")
            .AddSetting("epochs", options.Epochs.ToString(culture))
            .AddSetting("batch", $"{options.BatchSize} ({options.SamplesPerClass} per class)")
            .AddSetting("optimizer", options.Optimizer.ToString())
            .AddSetting("schedule", options.Schedule.ToString())
            .AddSetting("seed", options.Seed.ToString(culture))
            .AddFigure("precision@1", $"{100 * retrieval.PrecisionAt1:F2}%")
            .AddFigure("R-precision", $"{100 * retrieval.RPrecision:F2}%")
            .AddFigure("MAP@R", $"{100 * retrieval.MapAtR:F2}%")
            .AddFigure("verification accuracy (calibrated)", $"{100 * accuracy:F2}%")
            .AddFigure("ROC AUC", test.RocAuc.ToString("F4", culture))
            .AddEpochs(epochs)
            .AddScoreHistograms(testScores, sameClass, isSimilarity, new[] { ("calibrated", threshold) })
            .AddRocCurve(testScores, sameClass, isSimilarity, threshold);
        using (var shown = queries.narrow(0, 0, Math.Min(3000, queries.shape[0])))
            report.AddProjection(shown, data.Test.Labels.Take((int)shown.shape[0]).ToArray());
        byte[] Pixels(MnistSplit split, long i) => split.Pixels.Slice((int)i * split.InputSize, split.InputSize).ToArray();
        var rows = nearest.Select(n => new NeighbourRow(Pixels(data.Test, n.Query),
            n.Positions.Select((p, k) => (Pixels(data.Train, p), n.Labels[k] == data.Test.Labels[n.Query])).ToArray())).ToArray();
        if (rows.Length > 0)
            report.AddNeighbourGrid(rows, data.Test.ImageHeight, data.Test.ImageWidth);
        return report.Write(folder);
    }
}
