namespace MetricLearning.Reports;

/// <summary>One picture of a <see cref="TrainingReport"/>: a PNG file, its caption and its size in pixels.</summary>
/// <param name="FileName">The PNG's file name in the report folder (for example <c>loss.png</c>).</param>
/// <param name="Title">What the picture shows, used as its caption.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
public sealed record ReportChart(string FileName, string Title, int Width, int Height);
