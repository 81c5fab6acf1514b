using System;

namespace MetricLearning.Tests.TestSupport;

/// <summary>Comparisons worked out in plain double arithmetic, the independent side of the loss and miner tests.</summary>
internal static class Reference
{
    /// <summary>Cosine similarity of two 2-d points.</summary>
    internal static double Cosine(double[] a, double[] b) =>
        (a[0] * b[0] + a[1] * b[1]) / (Math.Sqrt(a[0] * a[0] + a[1] * a[1]) * Math.Sqrt(b[0] * b[0] + b[1] * b[1]));

    /// <summary>Euclidean distance of two 2-d points.</summary>
    internal static double Euclid(double[] a, double[] b) => Math.Sqrt(Math.Pow(a[0] - b[0], 2) + Math.Pow(a[1] - b[1], 2));
}
