using System;
using System.Linq;
using MetricLearning.Data;
using static TorchSharp.torch;

namespace MetricLearning.Tests.TestSupport;

/// <summary>A tiny, learnable data set: points around one centre per class in a few dimensions.</summary>
internal static class Blobs
{
    internal static (InputSet Inputs, int[] Labels) Create(int perClass, int classes, int dimensions, int seed)
    {
        var random = new Random(seed);
        var labels = new int[perClass * classes];
        var values = new float[labels.Length * dimensions];
        var centres = Enumerable.Range(0, classes)
            .Select(_ => Enumerable.Range(0, dimensions).Select(_ => (float)(random.NextDouble() * 8 - 4)).ToArray())
            .ToArray();
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = i % classes;
            for (int d = 0; d < dimensions; d++)
                values[i * dimensions + d] = centres[labels[i]][d] + (float)(random.NextDouble() - 0.5);
        }

        return (new InputSet(tensor(values, new long[] { labels.Length, dimensions })), labels);
    }

    /// <summary>
    /// Classes that an untrained network cannot tell apart: their centres differ in the first two dimensions only,
    /// and every other dimension is noise three times as large, so raw neighbours are mostly of other classes. A
    /// network has to learn to ignore the noise; learning tests compare it with the same network untrained.
    /// </summary>
    internal static (InputSet Inputs, int[] Labels) CreateHard(int perClass, int classes, int dimensions, int seed)
    {
        var random = new Random(seed);
        var labels = new int[perClass * classes];
        var values = new float[labels.Length * dimensions];
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = i % classes;
            double angle = 2 * Math.PI * labels[i] / classes;
            for (int d = 0; d < dimensions; d++)
            {
                double centre = d switch { 0 => 2 * Math.Cos(angle), 1 => 2 * Math.Sin(angle), _ => 0 };
                values[i * dimensions + d] = (float)(centre + (d < 2 ? 0.3 : 1.5) * Normal());
            }
        }

        return (new InputSet(tensor(values, new long[] { labels.Length, dimensions })), labels);
    }
}
