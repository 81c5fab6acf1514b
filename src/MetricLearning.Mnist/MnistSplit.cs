using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using MetricLearning.Data;
using MetricLearning.Mnist.Idx;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Mnist;

/// <summary>
/// One split (training or test) of a data set in MNIST's layout: grey images as bytes and their class labels, as MNIST
/// itself (28×28 digits 0–9), Fashion-MNIST, KMNIST or a set of your own hold them: any image size, any number of
/// classes up to 256.
/// </summary>
public sealed class MnistSplit
{
    /// <summary>Side of an MNIST image in pixels.</summary>
    public const int ImageSide = 28;

    /// <summary>Pixels per MNIST image.</summary>
    public const int PixelsPerImage = ImageSide * ImageSide;

    private readonly byte[] _pixels;
    private readonly int[] _labels;

    /// <summary>Creates a split of 28×28 images from raw pixels and labels, validating both.</summary>
    /// <param name="pixels">Row-major pixels, <see cref="PixelsPerImage"/> bytes per image.</param>
    /// <param name="labels">One class label (0–255) per image.</param>
    /// <exception cref="ArgumentException">The lengths disagree or a label is outside 0–255.</exception>
    public MnistSplit(byte[] pixels, IReadOnlyList<int> labels)
        : this(pixels, labels, ImageSide, ImageSide)
    {
    }

    /// <summary>Creates a split of images of any size from raw pixels and labels, validating both.</summary>
    /// <param name="pixels">Row-major pixels, <paramref name="imageHeight"/> × <paramref name="imageWidth"/> bytes per image.</param>
    /// <param name="labels">One class label (0–255) per image.</param>
    /// <param name="imageHeight">Rows of each image; at least 1.</param>
    /// <param name="imageWidth">Columns of each image; at least 1.</param>
    /// <exception cref="ArgumentException">The lengths disagree, a size is below 1, or a label is outside 0–255.</exception>
    public MnistSplit(byte[] pixels, IReadOnlyList<int> labels, int imageHeight, int imageWidth)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(imageHeight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(imageWidth, 1);
        if (labels.Count == 0)
            throw new ArgumentException("A split needs at least one image.", nameof(labels));
        long perImage = (long)imageHeight * imageWidth;
        if (pixels.Length != labels.Count * perImage)
            throw new ArgumentException(
                $"{labels.Count} labels need {labels.Count * perImage} pixel bytes ({perImage} per {imageHeight}x{imageWidth} image); got {pixels.Length}.", nameof(pixels));
        _labels = new int[labels.Count];
        for (int i = 0; i < _labels.Length; i++)
        {
            if (labels[i] is < 0 or > byte.MaxValue)
                throw new ArgumentException($"Label {i} is {labels[i]}; labels are class numbers 0-255.", nameof(labels));
            _labels[i] = labels[i];
        }

        _pixels = pixels;
        ImageHeight = imageHeight;
        ImageWidth = imageWidth;
    }

    /// <summary>Number of images.</summary>
    public int Count => _labels.Length;

    /// <summary>Rows of each image.</summary>
    public int ImageHeight { get; }

    /// <summary>Columns of each image.</summary>
    public int ImageWidth { get; }

    /// <summary>Pixels per image, the length of each input row: <see cref="ImageHeight"/> × <see cref="ImageWidth"/>.</summary>
    public int InputSize => ImageHeight * ImageWidth;

    /// <summary>How many classes the labels number: the largest label plus one.</summary>
    public int Classes => _labels.Max() + 1;

    /// <summary>The class of each image.</summary>
    public IReadOnlyList<int> Labels => _labels;

    /// <summary>All pixels, row-major, <see cref="InputSize"/> bytes per image (not a copy: do not modify).</summary>
    public ReadOnlySpan<byte> Pixels => _pixels;

    /// <summary>Reads a split from an images file and a labels file (IDX, plain or .gz), checking that they match.</summary>
    /// <param name="imagesPath">The images file (magic 0x00000803, N × height × width).</param>
    /// <param name="labelsPath">The labels file (magic 0x00000801, N).</param>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="IdxFormatException">A file is malformed or the counts differ; the message names the file.</exception>
    public static MnistSplit Load(string imagesPath, string labelsPath)
    {
        var images = IdxReader.Read(imagesPath, expectedRank: 3);
        var labels = IdxReader.Read(labelsPath, expectedRank: 1);
        if (labels.Dimensions[0] != images.Dimensions[0])
            throw new IdxFormatException(labelsPath, $"it holds {labels.Dimensions[0]} labels but '{Path.GetFileName(imagesPath)}' holds {images.Dimensions[0]} images.");
        if ((long)images.Dimensions[1] * images.Dimensions[2] > int.MaxValue)
            throw new IdxFormatException(imagesPath, $"its images are {images.Dimensions[1]}x{images.Dimensions[2]}, too large to be one input row.");

        var classes = new int[labels.Data.Length];
        for (int i = 0; i < classes.Length; i++)
            classes[i] = labels.Data[i];
        return new MnistSplit(images.Data, classes, images.Dimensions[1], images.Dimensions[2]);
    }

    /// <summary>
    /// The images as one resident tensor of bytes <c>[N, InputSize]</c> on <paramref name="device"/>, scaled to [0, 1]
    /// (divided by 255, as float32) as each batch is gathered.
    /// </summary>
    /// <param name="device">Where the tensor lives; the CPU if null.</param>
    /// <remarks>On the CPU the tensor shares this split's pixel array (pinned while the set lives) instead of copying it.</remarks>
    public InputSet ToInputSet(Device? device = null)
    {
        using var flat = frombuffer(_pixels, ScalarType.Byte);
        using var shaped = flat.view(Count, InputSize);
        var data = device is null || device.type == DeviceType.CPU ? shaped.alias() : shaped.to(device);
        return new InputSet(data, 1f / 255f);
    }

    /// <summary>The first <paramref name="count"/> images and labels, as a new split (useful for quick runs).</summary>
    /// <param name="count">Between 1 and <see cref="Count"/>.</param>
    public MnistSplit Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count);
        return new MnistSplit(_pixels.AsSpan(0, count * InputSize).ToArray(), _labels.AsSpan(0, count).ToArray(), ImageHeight, ImageWidth);
    }
}
