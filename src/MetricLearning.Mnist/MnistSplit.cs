using System;
using System.Collections.Generic;
using System.IO;
using MetricLearning.Data;
using MetricLearning.Mnist.Idx;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Mnist;

/// <summary>One MNIST split (training or test): 28×28 grey images as bytes and their digit labels 0–9.</summary>
public sealed class MnistSplit
{
    /// <summary>Side of an MNIST image in pixels.</summary>
    public const int ImageSide = 28;

    /// <summary>Pixels per image.</summary>
    public const int PixelsPerImage = ImageSide * ImageSide;

    private readonly byte[] _pixels;
    private readonly int[] _labels;

    /// <summary>Creates a split from raw pixels and labels, validating both.</summary>
    /// <param name="pixels">Row-major pixels, <see cref="PixelsPerImage"/> bytes per image.</param>
    /// <param name="labels">One digit 0–9 per image.</param>
    /// <exception cref="ArgumentException">The lengths disagree or a label is not a digit.</exception>
    public MnistSplit(byte[] pixels, IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count == 0)
            throw new ArgumentException("An MNIST split needs at least one image.", nameof(labels));
        if (pixels.Length != (long)labels.Count * PixelsPerImage)
            throw new ArgumentException(
                $"{labels.Count} labels need {(long)labels.Count * PixelsPerImage} pixel bytes ({PixelsPerImage} per image); got {pixels.Length}.", nameof(pixels));
        _labels = new int[labels.Count];
        for (int i = 0; i < _labels.Length; i++)
        {
            if (labels[i] is < 0 or > 9)
                throw new ArgumentException($"Label {i} is {labels[i]}; MNIST labels are digits 0-9.", nameof(labels));
            _labels[i] = labels[i];
        }

        _pixels = pixels;
    }

    /// <summary>Number of images.</summary>
    public int Count => _labels.Length;

    /// <summary>The digit of each image.</summary>
    public IReadOnlyList<int> Labels => _labels;

    /// <summary>All pixels, row-major, <see cref="PixelsPerImage"/> bytes per image (not a copy: do not modify).</summary>
    public ReadOnlySpan<byte> Pixels => _pixels;

    /// <summary>Reads a split from an images file and a labels file (IDX, plain or .gz), checking that they match.</summary>
    /// <param name="imagesPath">The images file (magic 0x00000803, N×28×28).</param>
    /// <param name="labelsPath">The labels file (magic 0x00000801, N).</param>
    /// <exception cref="IdxFormatException">A file is malformed, the images are not 28×28, the counts differ, or a label is not a digit.</exception>
    public static MnistSplit Load(string imagesPath, string labelsPath)
    {
        var images = IdxReader.Read(imagesPath, expectedRank: 3);
        if (images.Dimensions[1] != ImageSide || images.Dimensions[2] != ImageSide)
            throw new IdxFormatException(imagesPath, $"images are {images.Dimensions[1]}x{images.Dimensions[2]}; MNIST images are {ImageSide}x{ImageSide}.");
        var labels = IdxReader.Read(labelsPath, expectedRank: 1);
        if (labels.Dimensions[0] != images.Dimensions[0])
            throw new IdxFormatException(labelsPath, $"it holds {labels.Dimensions[0]} labels but '{Path.GetFileName(imagesPath)}' holds {images.Dimensions[0]} images.");

        var digits = new int[labels.Data.Length];
        for (int i = 0; i < digits.Length; i++)
        {
            if (labels.Data[i] > 9)
                throw new IdxFormatException(labelsPath, $"label {i} is {labels.Data[i]}; MNIST labels are digits 0-9.");
            digits[i] = labels.Data[i];
        }

        return new MnistSplit(images.Data, digits);
    }

    /// <summary>
    /// The images as one resident tensor of bytes <c>[N, 784]</c> on <paramref name="device"/>, scaled to [0, 1]
    /// (divided by 255, as float32) as each batch is gathered.
    /// </summary>
    /// <param name="device">Where the tensor lives; the CPU if null.</param>
    /// <remarks>On the CPU the tensor shares this split's pixel array (pinned while the set lives) instead of copying it.</remarks>
    public InputSet ToInputSet(Device? device = null)
    {
        using var flat = frombuffer(_pixels, ScalarType.Byte);
        using var shaped = flat.view(Count, PixelsPerImage);
        var data = device is null || device.type == DeviceType.CPU ? shaped.alias() : shaped.to(device);
        return new InputSet(data, 1f / 255f);
    }

    /// <summary>The first <paramref name="count"/> images and labels, as a new split (useful for quick runs).</summary>
    /// <param name="count">Between 1 and <see cref="Count"/>.</param>
    public MnistSplit Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count);
        return new MnistSplit(_pixels.AsSpan(0, count * PixelsPerImage).ToArray(), _labels.AsSpan(0, count).ToArray());
    }
}
