using System;
using System.IO;

namespace MetricLearning.Mnist;

/// <summary>
/// A training split and a test split in MNIST's layout: MNIST itself (60,000 and 10,000 images), or Fashion-MNIST,
/// KMNIST or a set of your own stored the same way.
/// </summary>
/// <param name="Train">The training split.</param>
/// <param name="Test">The test split.</param>
public sealed record MnistDataset(MnistSplit Train, MnistSplit Test)
{
    /// <summary>Loads the four IDX files from a folder (each plain or with a .gz suffix).</summary>
    /// <param name="folder">A folder holding the files named as in <see cref="MnistFile.All"/>.</param>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="Idx.IdxFormatException">A file is malformed, or the splits' image sizes differ.</exception>
    public static MnistDataset Load(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var train = MnistSplit.Load(Locate(folder, MnistFile.TrainImages), Locate(folder, MnistFile.TrainLabels));
        string testImages = Locate(folder, MnistFile.TestImages);
        var test = MnistSplit.Load(testImages, Locate(folder, MnistFile.TestLabels));
        if (test.ImageHeight != train.ImageHeight || test.ImageWidth != train.ImageWidth)
            throw new Idx.IdxFormatException(testImages,
                $"its images are {test.ImageHeight}x{test.ImageWidth}, but the training images are {train.ImageHeight}x{train.ImageWidth}; both splits need one size.");
        return new MnistDataset(train, test);
    }

    private static string Locate(string folder, MnistFile file)
    {
        string plain = Path.Combine(folder, file.Name);
        if (File.Exists(plain))
            return plain;
        if (File.Exists(plain + ".gz"))
            return plain + ".gz";
        throw new FileNotFoundException($"MNIST file '{file.Name}' (or '{file.Name}.gz') is not in '{folder}'.", plain);
    }
}
