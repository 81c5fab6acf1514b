using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using FluentAssertions;
using MetricLearning.Reports;
using MetricLearning.Tests.TestSupport;
using MetricLearning.Training;
using SkiaSharp;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Reports;

public sealed class TrainingReportTests
{
    /// <summary>A report with every kind of chart, from made-up but plausible data.</summary>
    internal static TrainingReport Full()
    {
        var random = new Random(5);
        var epochs = Enumerable.Range(1, 6).Select(e => new EpochReport(e, 6, 0.2 / e, 0.8 + 0.02 * e, 0.78 + 0.02 * e, 1.5, 0.3)).ToArray();
        var same = Enumerable.Range(0, 400).Select(i => i % 2 == 0).ToArray();
        var scores = same.Select(s => (float)(s ? 0.3 + 0.2 * random.NextDouble() : 0.6 + 0.5 * random.NextDouble())).ToArray();
        var labels = Enumerable.Range(0, 300).Select(i => i % 3).ToArray();
        var points = labels.SelectMany(label => Enumerable.Range(0, 5).Select(d => (float)((d == label ? 3 : 0) + random.NextDouble()))).ToArray();
        using var embeddings = tensor(points, new long[] { labels.Length, 5 });
        byte[] Image(int label) => Enumerable.Range(0, 64).Select(p => (byte)(p % 8 == label * 3 ? 255 : random.Next(30))).ToArray();
        var rows = Enumerable.Range(0, 3).Select(q => new NeighbourRow(Image(q), Enumerable.Range(0, 5).Select(n => (Image(n % 3), n % 3 == q)).ToArray())).ToArray();

        return new TrainingReport("A test run")
            .AddSetting("seed", "5")
            .AddFigure("test pair accuracy", "97.00%")
            .AddEpochs(epochs)
            .AddScoreHistograms(scores, same, isSimilarity: false, new[] { ("0.5", 0.5), ("calibrated", 0.55) })
            .AddRocCurve(scores, same, isSimilarity: false, threshold: 0.55)
            .AddProjection(embeddings, labels, new[] { "zero", "one", "two" })
            .AddNeighbourGrid(rows, 8, 8);
    }

    /// <summary>What each chart file must be: a PNG that decodes, of the size the page states, and not blank.</summary>
    internal static void CheckReportFolder(string folder, IEnumerable<string> expectedCharts)
    {
        string html = File.ReadAllText(Path.Combine(folder, "index.html"));
        var images = Regex.Matches(html, "<img src=\"([^\"]+)\" width=\"(\\d+)\" height=\"(\\d+)\"")
            .Select(m => (File: m.Groups[1].Value, Width: int.Parse(m.Groups[2].Value), Height: int.Parse(m.Groups[3].Value)))
            .ToArray();
        images.Select(i => i.File).Should().BeEquivalentTo(expectedCharts, "the page shows every chart");
        foreach (var (file, width, height) in images)
        {
            using var bitmap = SKBitmap.Decode(Path.Combine(folder, file));
            bitmap.Should().NotBeNull($"{file} decodes as an image");
            (bitmap.Width, bitmap.Height).Should().Be((width, height), $"{file} has the size the page states");
            var colours = new HashSet<uint>();
            for (int y = 0; y < bitmap.Height; y += 2)
                for (int x = 0; x < bitmap.Width; x += 2)
                    colours.Add((uint)bitmap.GetPixel(x, y));
            colours.Count.Should().BeGreaterThan(5, $"{file} is not blank");
        }
    }

    [Fact]
    public void Every_chart_is_written_as_a_png_of_the_stated_size_that_is_not_blank_and_the_page_shows_them_all()
    {
        using var folder = new TempFolder();
        var report = Full();

        string page = report.Write(folder.Path);

        page.Should().Be(Path.Combine(folder.Path, "index.html"));
        report.Charts.Select(c => c.FileName).Should().Equal("loss.png", "accuracy.png", "distances.png", "roc.png", "projection.png", "neighbours.png");
        CheckReportFolder(folder.Path, report.Charts.Select(c => c.FileName));
        string html = File.ReadAllText(page);
        html.Should().Contain("A test run").And.Contain("<th>seed</th><td>5</td>").And.Contain("97.00%");
        Directory.GetFiles(folder.Path).Should().HaveCount(7, "no temporary files are left");
    }

    [Fact]
    public void The_projection_separates_classes_that_are_apart_in_the_embeddings()
    {
        // Three classes, each far along its own axis: the first two principal components must keep them apart.
        var random = new Random(6);
        var labels = Enumerable.Range(0, 90).Select(i => i % 3).ToArray();
        var values = labels.SelectMany(label => Enumerable.Range(0, 6).Select(d => (float)((d == label ? 5 : 0) + 0.1 * random.NextDouble()))).ToArray();
        using var embeddings = tensor(values, new long[] { labels.Length, 6 });

        var (x, y) = PrincipalComponents.Project2D(embeddings);

        var centres = Enumerable.Range(0, 3).Select(c => (X: labels.Select((l, i) => (l, i)).Where(p => p.l == c).Average(p => x[p.i]), Y: labels.Select((l, i) => (l, i)).Where(p => p.l == c).Average(p => y[p.i]))).ToArray();
        for (int i = 0; i < labels.Length; i++)
        {
            var nearest = Enumerable.Range(0, 3).MinBy(c => Math.Pow(x[i] - centres[c].X, 2) + Math.Pow(y[i] - centres[c].Y, 2));
            nearest.Should().Be(labels[i], $"point {i} lies nearest its own class's centre");
        }
    }

    [Fact]
    public void Bad_inputs_are_refused_naming_the_problem()
    {
        var report = new TrainingReport("t");
        report.Invoking(r => r.AddScoreHistograms(new float[] { 1, 2 }, new[] { true, true }, false, Array.Empty<(string, double)>()))
            .Should().Throw<ArgumentException>().WithMessage("*both same-class and different-class*");
        report.Invoking(r => r.AddEpochCurves("../x.png", "t", "v", new[] { ("a", (IReadOnlyList<double>)new double[] { 1 }) }))
            .Should().Throw<ArgumentException>().WithMessage("*not a plain .png file name*");
        report.AddEpochCurves("a.png", "t", "v", new[] { ("a", (IReadOnlyList<double>)new double[] { 1, 2 }) });
        report.Invoking(r => r.AddEpochCurves("a.png", "t", "v", new[] { ("a", (IReadOnlyList<double>)new double[] { 1 }) }))
            .Should().Throw<ArgumentException>().WithMessage("*already has a chart named 'a.png'*");
        report.Invoking(r => r.AddNeighbourGrid(new[] { new NeighbourRow(new byte[3], Array.Empty<(byte[], bool)>()) }, 2, 2))
            .Should().Throw<ArgumentException>().WithMessage("*2 x 2 = 4 pixels*");
    }
}
