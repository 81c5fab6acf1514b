using System.Collections.Generic;

namespace MetricLearning.Mnist;

/// <summary>One of the four original MNIST files, with the MD5 of its uncompressed content.</summary>
/// <param name="Name">The file's name, uncompressed (e.g. <c>train-images-idx3-ubyte</c>).</param>
/// <param name="Md5">Lower-case hex MD5 of the uncompressed content.</param>
internal sealed record MnistFile(string Name, string Md5)
{
    /// <summary>Training images, 60,000 × 28 × 28.</summary>
    public static MnistFile TrainImages { get; } = new("train-images-idx3-ubyte", "6bbc9ace898e44ae57da46a324031adb");

    /// <summary>Training labels, 60,000.</summary>
    public static MnistFile TrainLabels { get; } = new("train-labels-idx1-ubyte", "a25bea736e30d166cdddb491f175f624");

    /// <summary>Test images, 10,000 × 28 × 28.</summary>
    public static MnistFile TestImages { get; } = new("t10k-images-idx3-ubyte", "2646ac647ad5339dbf082846283269ea");

    /// <summary>Test labels, 10,000.</summary>
    public static MnistFile TestLabels { get; } = new("t10k-labels-idx1-ubyte", "27ae3e4e09519cfbb04c329615203637");

    /// <summary>All four files.</summary>
    public static IReadOnlyList<MnistFile> All { get; } = new[] { TrainImages, TrainLabels, TestImages, TestLabels };
}
