using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using MetricLearning.Evaluation;
using MetricLearning.Training;
using ScottPlot;
using SkiaSharp;
using static TorchSharp.torch;

namespace MetricLearning.Reports;

/// <summary>
/// A report of a training run that people can look at: PNG charts (per-epoch curves, distance histograms with
/// thresholds, the ROC curve, a 2-D projection of embeddings, query/neighbour grids for images) and one static
/// <c>index.html</c> that shows them with the run's settings and figures.
/// </summary>
/// <remarks>
/// Each <c>Add</c> method draws its chart at once (with ScottPlot, or SkiaSharp for image grids) and keeps the PNG in
/// memory; <see cref="Write"/> puts them and the page in a folder. Charts are drawn at a fixed size, stated in
/// <see cref="Charts"/> and in the page. Not thread-safe.
/// </remarks>
public sealed class TrainingReport
{
    /// <summary>Width of the line and histogram charts, in pixels.</summary>
    public const int ChartWidth = 800;

    /// <summary>Height of the line and histogram charts, in pixels.</summary>
    public const int ChartHeight = 500;

    /// <summary>Width and height of the projection chart, in pixels.</summary>
    public const int ProjectionSize = 800;

    private readonly List<(ReportChart Chart, byte[] Png)> _charts = new();
    private readonly List<(string Name, string Value)> _settings = new();
    private readonly List<(string Name, string Value)> _figures = new();

    /// <summary>Creates an empty report.</summary>
    /// <param name="title">The page's title, for example "Siamese MNIST, seed 1337".</param>
    public TrainingReport(string title)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(title);
        Title = title;
    }

    /// <summary>The page's title.</summary>
    public string Title { get; }

    /// <summary>The charts added so far, in order.</summary>
    public IReadOnlyList<ReportChart> Charts => _charts.Select(entry => entry.Chart).ToArray();

    /// <summary>Adds a row to the page's settings table (what the run was told).</summary>
    /// <param name="name">The setting.</param>
    /// <param name="value">Its value.</param>
    /// <returns>This report.</returns>
    public TrainingReport AddSetting(string name, string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _settings.Add((name, value ?? ""));
        return this;
    }

    /// <summary>Adds a row to the page's figures table (what the run measured).</summary>
    /// <param name="name">The figure.</param>
    /// <param name="value">Its value, formatted.</param>
    /// <returns>This report.</returns>
    public TrainingReport AddFigure(string name, string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _figures.Add((name, value ?? ""));
        return this;
    }

    /// <summary>Adds a chart of one or more series per epoch (epoch 1 first).</summary>
    /// <param name="fileName">The PNG's file name, for example <c>loss.png</c>.</param>
    /// <param name="title">The chart's title.</param>
    /// <param name="valueLabel">The vertical axis's label.</param>
    /// <param name="series">Each series' name and its value per epoch; a series may be shorter than the others.</param>
    /// <returns>This report.</returns>
    /// <exception cref="ArgumentException">There are no series, a series is empty, or the file name is taken or not a plain .png name.</exception>
    public TrainingReport AddEpochCurves(string fileName, string title, string valueLabel, IReadOnlyList<(string Name, IReadOnlyList<double> Values)> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0 || series.Any(s => s.Values is null || s.Values.Count == 0))
            throw new ArgumentException("Each series needs at least one value.", nameof(series));
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < series.Count; i++)
        {
            double[] epochs = Enumerable.Range(1, series[i].Values.Count).Select(e => (double)e).ToArray();
            var line = plot.Add.Scatter(epochs, series[i].Values.ToArray());
            line.LegendText = series[i].Name;
            line.Color = palette.GetColor(i);
            line.LineWidth = 2;
            line.MarkerSize = 5;
        }

        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel(valueLabel);
        plot.ShowLegend(Alignment.UpperRight);
        return AddPlot(fileName, title, plot, ChartWidth, ChartHeight);
    }

    /// <summary>Adds the loss and pair-accuracy curves of a <see cref="SiameseTrainer"/> run (<c>loss.png</c>, <c>accuracy.png</c>).</summary>
    /// <param name="epochs">The run's reports.</param>
    /// <returns>This report.</returns>
    public TrainingReport AddEpochs(IReadOnlyList<EpochReport> epochs)
    {
        ArgumentNullException.ThrowIfNull(epochs);
        AddEpochCurves("loss.png", "Training loss per epoch", "mean loss", new[] { ("training loss", (IReadOnlyList<double>)epochs.Select(e => e.Loss).ToArray()) });
        var accuracy = new List<(string, IReadOnlyList<double>)>();
        if (epochs.All(e => e.TrainAccuracy is not null))
            accuracy.Add(("training pairs", epochs.Select(e => 100 * e.TrainAccuracy!.Value).ToArray()));
        if (epochs.All(e => e.ValidationAccuracy is not null))
            accuracy.Add(("validation pairs", epochs.Select(e => 100 * e.ValidationAccuracy!.Value).ToArray()));
        return accuracy.Count == 0 ? this : AddEpochCurves("accuracy.png", "Pair accuracy per epoch", "accuracy (%)", accuracy);
    }

    /// <summary>Adds the loss and embedding-spread curves of an <see cref="EmbeddingTrainer"/> run (<c>loss.png</c>, <c>spread.png</c>).</summary>
    /// <param name="epochs">The run's reports.</param>
    /// <returns>This report.</returns>
    public TrainingReport AddEpochs(IReadOnlyList<EmbeddingEpochReport> epochs)
    {
        ArgumentNullException.ThrowIfNull(epochs);
        AddEpochCurves("loss.png", "Training loss per epoch", "mean loss", new[] { ("training loss", (IReadOnlyList<double>)epochs.Select(e => e.Loss).ToArray()) });
        return AddEpochCurves("spread.png", "Spread of the embeddings' directions per epoch", "spread", new[] { ("spread", (IReadOnlyList<double>)epochs.Select(e => e.Spread).ToArray()) });
    }

    /// <summary>
    /// Adds histograms of the scores of same-class and different-class pairs, with thresholds marked
    /// (<c>distances.png</c>).
    /// </summary>
    /// <param name="scores">One score (distance or similarity) per pair.</param>
    /// <param name="sameClass">True for a same-class pair.</param>
    /// <param name="isSimilarity">Whether the scores are similarities (larger is closer).</param>
    /// <param name="thresholds">Thresholds to mark, each with its name (for example "0.5" and "calibrated").</param>
    /// <returns>This report.</returns>
    /// <exception cref="ArgumentException">The lengths differ, a score is not finite, or one of the two classes is absent.</exception>
    public TrainingReport AddScoreHistograms(IReadOnlyList<float> scores, IReadOnlyList<bool> sameClass, bool isSimilarity, IReadOnlyList<(string Name, double Value)> thresholds)
    {
        VerificationEvaluator.Evaluate(scores, sameClass, isSimilarity);   // the same checks, with the same messages
        ArgumentNullException.ThrowIfNull(thresholds);
        double min = scores.Min(), max = scores.Max();
        const int Bins = 60;
        double width = Math.Max(max - min, 1e-9) / Bins;
        var plot = new Plot();
        var colours = new[] { Colors.SeaGreen, Colors.OrangeRed };
        foreach (var (same, name, colour) in new[] { (true, "same class", colours[0]), (false, "different classes", colours[1]) })
        {
            var counts = new double[Bins];
            int total = 0;
            for (int i = 0; i < scores.Count; i++)
            {
                if (sameClass[i] != same)
                    continue;
                counts[Math.Min(Bins - 1, (int)((scores[i] - min) / width))]++;
                total++;
            }

            // Shares rather than counts, so that classes of different sizes compare.
            double[] centres = Enumerable.Range(0, Bins).Select(b => min + (b + 0.5) * width).ToArray();
            double[] shares = counts.Select(c => 100 * c / total).ToArray();
            var bars = plot.Add.Bars(centres, shares);
            bars.LegendText = name;
            foreach (var bar in bars.Bars)
            {
                bar.FillColor = colour.WithAlpha(0.55);
                bar.LineWidth = 0;
                bar.Size = width;
            }
        }

        var lineColours = new[] { Colors.Black, Colors.RoyalBlue, Colors.DarkViolet, Colors.DarkOrange };
        for (int t = 0; t < thresholds.Count; t++)
        {
            var line = plot.Add.VerticalLine(thresholds[t].Value);
            line.LegendText = $"threshold {thresholds[t].Name} ({thresholds[t].Value.ToString("G4", CultureInfo.InvariantCulture)})";
            line.Color = lineColours[t % lineColours.Length];
            line.LineWidth = 2;
            line.LinePattern = LinePattern.Dashed;
        }

        plot.Title(isSimilarity ? "Similarity of test pairs" : "Distance of test pairs");
        plot.XLabel(isSimilarity ? "similarity" : "distance");
        plot.YLabel("share of pairs (%)");
        plot.Axes.Margins(bottom: 0);
        plot.ShowLegend(Alignment.UpperRight);
        return AddPlot("distances.png", isSimilarity ? "Similarities of same-class and different-class test pairs" : "Distances of same-class and different-class test pairs", plot, ChartWidth, ChartHeight);
    }

    /// <summary>Adds the ROC curve with the equal-error-rate point and the chosen threshold marked (<c>roc.png</c>).</summary>
    /// <param name="scores">One score (distance or similarity) per pair.</param>
    /// <param name="sameClass">True for a same-class pair.</param>
    /// <param name="isSimilarity">Whether the scores are similarities (larger is closer).</param>
    /// <param name="threshold">The threshold the model uses, marked on the curve.</param>
    /// <returns>This report.</returns>
    /// <exception cref="ArgumentException">The lengths differ, a score is not finite, or one of the two classes is absent.</exception>
    public TrainingReport AddRocCurve(IReadOnlyList<float> scores, IReadOnlyList<bool> sameClass, bool isSimilarity, double threshold)
    {
        var metrics = VerificationEvaluator.Evaluate(scores, sameClass, isSimilarity);
        var curve = VerificationEvaluator.RocCurve(scores, sameClass, isSimilarity);
        var plot = new Plot();
        var line = plot.Add.Scatter(curve.Select(p => p.FalseAcceptRate).ToArray(), curve.Select(p => p.TrueAcceptRate).ToArray());
        line.LegendText = $"ROC (AUC {metrics.RocAuc.ToString("F4", CultureInfo.InvariantCulture)})";
        line.MarkerSize = 0;
        line.LineWidth = 2;
        line.Color = Colors.RoyalBlue;
        var chance = plot.Add.Line(0, 0, 1, 1);
        chance.Color = Colors.Gray;
        chance.LinePattern = LinePattern.Dotted;
        chance.LegendText = "chance";

        var (falseAccept, trueAccept) = Rates(scores, sameClass, isSimilarity, metrics.EqualErrorThreshold);
        var equal = plot.Add.Marker(falseAccept, trueAccept);
        equal.LegendText = $"equal error rate {(100 * metrics.EqualErrorRate).ToString("F2", CultureInfo.InvariantCulture)}%";
        equal.Color = Colors.OrangeRed;
        equal.MarkerSize = 12;
        (falseAccept, trueAccept) = Rates(scores, sameClass, isSimilarity, threshold);
        var chosen = plot.Add.Marker(falseAccept, trueAccept);
        chosen.LegendText = $"threshold {threshold.ToString("G4", CultureInfo.InvariantCulture)}";
        chosen.Color = Colors.Black;
        chosen.MarkerShape = MarkerShape.OpenDiamond;
        chosen.MarkerSize = 14;

        plot.Title("ROC curve of the test pairs");
        plot.XLabel("false accept rate (different-class pairs accepted)");
        plot.YLabel("true accept rate (same-class pairs accepted)");
        plot.Axes.SetLimits(-0.01, 1.01, -0.01, 1.01);
        plot.ShowLegend(Alignment.LowerRight);
        return AddPlot("roc.png", "ROC curve with the equal-error-rate point and the chosen threshold", plot, ChartWidth, ChartHeight);
    }

    /// <summary>
    /// Adds a 2-D projection (the first two principal components) of embeddings, coloured by class, with a legend
    /// (<c>projection.png</c>). Ten colours: with more classes, colours repeat.
    /// </summary>
    /// <param name="embeddings">Embeddings <c>[N, D]</c>, N ≥ 2, D ≥ 2; a few thousand draw well.</param>
    /// <param name="labels">The class of each embedding.</param>
    /// <param name="classNames">The name of each class number, or null to show the numbers.</param>
    /// <returns>This report.</returns>
    /// <exception cref="ArgumentException">The shape is wrong or the labels' count differs.</exception>
    public TrainingReport AddProjection(Tensor embeddings, IReadOnlyList<int> labels, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(labels);
        if (embeddings.dim() != 2 || embeddings.shape[0] != labels.Count)
            throw new ArgumentException($"The embeddings are [{string.Join(", ", embeddings.shape)}] for {labels.Count} labels; they must be [N, D] with one label each.", nameof(labels));
        if (labels.Any(label => label < 0))
            throw new ArgumentException("Labels must be class numbers of 0 or more.", nameof(labels));
        var (x, y) = PrincipalComponents.Project2D(embeddings);
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        foreach (int label in labels.Distinct().Order())
        {
            var members = Enumerable.Range(0, labels.Count).Where(i => labels[i] == label).ToArray();
            var points = plot.Add.ScatterPoints(members.Select(i => x[i]).ToArray(), members.Select(i => y[i]).ToArray());
            points.LegendText = classNames is not null && label >= 0 && label < classNames.Count ? classNames[label] : label.ToString(CultureInfo.InvariantCulture);
            points.Color = palette.GetColor(label).WithAlpha(0.7);
            points.MarkerSize = 4;
        }

        plot.Title($"{labels.Count} embeddings, first two principal components");
        plot.XLabel("component 1");
        plot.YLabel("component 2");
        plot.ShowLegend(Alignment.UpperRight);
        return AddPlot("projection.png", "2-D projection (PCA) of embeddings, coloured by class", plot, ProjectionSize, ProjectionSize);
    }

    /// <summary>
    /// Adds a grid of query images (left column) and their nearest neighbours, nearest first, framed green when of
    /// the query's class and red when not (<c>neighbours.png</c>).
    /// </summary>
    /// <param name="rows">One row per query.</param>
    /// <param name="imageHeight">Rows of pixels of each image.</param>
    /// <param name="imageWidth">Columns of pixels of each image.</param>
    /// <param name="scale">How many screen pixels each image pixel becomes; at least 1.</param>
    /// <returns>This report.</returns>
    /// <exception cref="ArgumentException">There are no rows, or an image does not hold <paramref name="imageHeight"/> × <paramref name="imageWidth"/> pixels.</exception>
    public TrainingReport AddNeighbourGrid(IReadOnlyList<NeighbourRow> rows, int imageHeight, int imageWidth, int scale = 3)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(imageHeight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(imageWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        if (rows.Count == 0)
            throw new ArgumentException("A neighbour grid needs at least one row.", nameof(rows));
        int pixels = imageHeight * imageWidth;
        if (rows.Any(row => row.Query.Length != pixels || row.Neighbours.Any(n => n.Pixels.Length != pixels)))
            throw new ArgumentException($"Every image must hold {imageHeight} x {imageWidth} = {pixels} pixels.", nameof(rows));
        const int Frame = 3, Gap = 6, QueryGap = 18;
        int columns = rows.Max(row => row.Neighbours.Count);
        int cellWidth = imageWidth * scale + 2 * Frame, cellHeight = imageHeight * scale + 2 * Frame;
        int width = Gap + cellWidth + QueryGap + columns * (cellWidth + Gap);
        int height = Gap + rows.Count * (cellHeight + Gap);
        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            for (int r = 0; r < rows.Count; r++)
            {
                int top = Gap + r * (cellHeight + Gap);
                DrawCell(canvas, rows[r].Query, Gap, top, SKColors.SteelBlue);
                for (int n = 0; n < rows[r].Neighbours.Count; n++)
                {
                    var (image, same) = rows[r].Neighbours[n];
                    DrawCell(canvas, image, Gap + cellWidth + QueryGap + n * (cellWidth + Gap), top, same ? SKColors.SeaGreen : SKColors.Red);
                }
            }
        }

        void DrawCell(SKCanvas canvas, byte[] image, int left, int top, SKColor frame)
        {
            using var paint = new SKPaint { Color = frame, IsAntialias = false };
            canvas.DrawRect(left, top, cellWidth, cellHeight, paint);
            for (int y = 0; y < imageHeight; y++)
            {
                for (int x = 0; x < imageWidth; x++)
                {
                    // MNIST-style images are white on black; drawn dark on light, as ink on paper.
                    byte ink = (byte)(255 - image[y * imageWidth + x]);
                    paint.Color = new SKColor(ink, ink, ink);
                    canvas.DrawRect(left + Frame + x * scale, top + Frame + y * scale, scale, scale, paint);
                }
            }
        }

        using var encoded = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return Add(new ReportChart("neighbours.png", $"Test queries (blue, left) and their {columns} nearest training images: green of the same class, red not", width, height), encoded.ToArray());
    }

    /// <summary>
    /// Writes every chart as a PNG and <c>index.html</c> into <paramref name="folder"/> (created if needed); each file
    /// is written to a temporary name and renamed, the page last, so the page never refers to a missing chart.
    /// </summary>
    /// <param name="folder">The report's folder.</param>
    /// <returns>The path of <c>index.html</c>.</returns>
    public string Write(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        Directory.CreateDirectory(folder);
        foreach (var (chart, png) in _charts)
            WriteAtomically(Path.Combine(folder, chart.FileName), png);
        string page = Path.Combine(folder, "index.html");
        WriteAtomically(page, Encoding.UTF8.GetBytes(Html()));
        return page;
    }

    private string Html()
    {
        static string E(string text) => WebUtility.HtmlEncode(text);
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html>");
        html.AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.AppendLine($"<title>{E(Title)}</title>");
        html.AppendLine("<style>body{font-family:sans-serif;margin:2em;max-width:1700px}table{border-collapse:collapse;margin:0 2em 1em 0;display:inline-table;vertical-align:top}"
            + "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}figure{display:inline-block;margin:1em 1em 1em 0}figcaption{color:#444}</style>");
        html.AppendLine("</head><body>");
        html.AppendLine($"<h1>{E(Title)}</h1>");
        foreach (var (caption, rows) in new[] { ("Settings", _settings), ("Figures", _figures) })
        {
            if (rows.Count == 0)
                continue;
            html.AppendLine($"<table><caption>{caption}</caption>");
            foreach (var (name, value) in rows)
                html.AppendLine($"<tr><th>{E(name)}</th><td>{E(value)}</td></tr>");
            html.AppendLine("</table>");
        }

        foreach (var (chart, _) in _charts)
            html.AppendLine($"<figure><img src=\"{E(chart.FileName)}\" width=\"{chart.Width}\" height=\"{chart.Height}\" alt=\"{E(chart.Title)}\"><figcaption>{E(chart.Title)}</figcaption></figure>");
        html.AppendLine($"<p><small>Written {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by MetricLearning.Reports.</small></p>");
        html.AppendLine("</body></html>");
        return html.ToString();
    }

    private TrainingReport AddPlot(string fileName, string title, Plot plot, int width, int height) =>
        Add(new ReportChart(fileName, title, width, height), plot.GetImageBytes(width, height, ImageFormat.Png));

    private TrainingReport Add(ReportChart chart, byte[] png)
    {
        if (chart.FileName.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || chart.FileName.Contains('/') || !chart.FileName.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"'{chart.FileName}' is not a plain .png file name.", nameof(chart));
        if (_charts.Any(entry => string.Equals(entry.Chart.FileName, chart.FileName, StringComparison.OrdinalIgnoreCase)))
            throw new ArgumentException($"The report already has a chart named '{chart.FileName}'.", nameof(chart));
        _charts.Add((chart, png));
        return this;
    }

    /// <summary>Share of different-class pairs and of same-class pairs accepted at a threshold.</summary>
    private static (double FalseAccept, double TrueAccept) Rates(IReadOnlyList<float> scores, IReadOnlyList<bool> sameClass, bool isSimilarity, double threshold)
    {
        int positives = 0, negatives = 0, truePositives = 0, falsePositives = 0;
        for (int i = 0; i < scores.Count; i++)
        {
            bool accepted = isSimilarity ? scores[i] >= threshold : scores[i] <= threshold;
            if (sameClass[i])
            {
                positives++;
                truePositives += accepted ? 1 : 0;
            }
            else
            {
                negatives++;
                falsePositives += accepted ? 1 : 0;
            }
        }

        return ((double)falsePositives / negatives, (double)truePositives / positives);
    }

    private static void WriteAtomically(string path, byte[] content)
    {
        string temporary = path + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            File.WriteAllBytes(temporary, content);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
    }
}
