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
}
