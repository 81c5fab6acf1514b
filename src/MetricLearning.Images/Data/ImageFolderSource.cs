using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace MetricLearning.Data;

/// <summary>
/// An <see cref="ILabelledSource"/> over a folder of class folders of images (as <see cref="ImageFolder"/> reads them)
/// that decodes the files of each batch when the batch is read, so that image sets larger than memory train; or,
/// with <c>keepInMemory</c>, decodes them once and keeps their pixels.
/// </summary>
/// <remarks>
/// <see cref="Open"/> lists the files and decodes each once to check it (refusing or skipping unreadable files as the
/// options say), so that a damaged file stops the run before training rather than in its tenth epoch; after that,
/// memory holds the file names and labels only. Each <see cref="Read"/> decodes its files on the calling thread: the
/// trainer calls it for several batches at once on worker threads, ahead of the step that needs them (or on the
/// training thread with <c>PrefetchBatches = 0</c>). Raw inputs are
/// bytes <c>[C, H, W]</c>; the default preprocessing scales them to [0, 1]. Thread-safe.
/// </remarks>
public sealed class ImageFolderSource : ILabelledSource
{
    private readonly ImageFolderOptions _settings;
    private readonly string[] _files;
    private readonly int[] _labels;
    private readonly ImageFolder? _resident;

    private ImageFolderSource(string folder, ImageFolderOptions settings, string[] classNames, string[] files, int[] labels, IReadOnlyList<string> skipped, ImageFolder? resident, IInputPreprocessing? preprocessing)
    {
        Folder = folder;
        _settings = settings;
        ClassNames = classNames;
        _files = files;
        _labels = labels;
        Skipped = skipped;
        _resident = resident;
        InputShape = new long[] { settings.Grayscale ? 1 : 3, settings.Height, settings.Width };
        Preprocessing = preprocessing ?? new InputScaling(1f / 255f);
    }

    /// <summary>The folder.</summary>
    public string Folder { get; }

    /// <summary>The class folders' names; label i is <c>ClassNames[i]</c>.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The image files, in order.</summary>
    public IReadOnlyList<string> Files => _files;

    /// <summary>Files left out with <see cref="ImageFolderOptions.SkipUnreadable"/>, each with the reason ("path: reason").</summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>True when the decoded images are kept in memory.</summary>
    public bool KeepsInMemory => _resident is not null;

    /// <inheritdoc />
    public int Count => _labels.Length;

    /// <inheritdoc />
    public IReadOnlyList<int> Labels => _labels;

    /// <inheritdoc />
    public IReadOnlyList<long> InputShape { get; }

    /// <inheritdoc />
    public IInputPreprocessing Preprocessing { get; }

    /// <summary>Lists and checks a folder of class folders of images.</summary>
    /// <param name="folder">The folder; each sub-folder is a class.</param>
    /// <param name="options">Size, channels, what to do with unreadable files; null for the defaults.</param>
    /// <param name="keepInMemory">Keep the decoded pixels (channels x height x width bytes per image) instead of decoding each batch again.</param>
    /// <param name="preprocessing">What turns the bytes into network inputs; null for a scale of 1/255.</param>
    /// <param name="logger">Told of each skipped file (event 2101); null for none.</param>
    /// <returns>The source.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// The folder has no class folders or no images, or a file is not a readable image (named) and skipping is off, or
    /// (with <paramref name="keepInMemory"/>) the decoded images would take more than one array holds (2 GB).
    /// </exception>
    public static ImageFolderSource Open(string folder, ImageFolderOptions? options = null, bool keepInMemory = false, IInputPreprocessing? preprocessing = null, ILogger? logger = null)
    {
        var settings = (options ?? new ImageFolderOptions()).Clone();
        if (keepInMemory)
        {
            var resident = ImageFolder.Load(folder, settings, logger);
            return new ImageFolderSource(folder, settings, [.. resident.ClassNames], [.. resident.Files], [.. resident.Labels], resident.Skipped, resident, preprocessing);
        }

        var scan = ImageFolder.Scan(folder, settings, logger, keepPixels: false);
        return new ImageFolderSource(folder, settings, scan.ClassNames, scan.Files, scan.Labels, scan.Skipped, null, preprocessing);
    }

    /// <summary>The same files with another preprocessing (no file is read again), for example one measured on this source.</summary>
    /// <param name="preprocessing">What turns the bytes into network inputs.</param>
    /// <returns>A new source over the same files (and the same decoded pixels, if kept).</returns>
    public ImageFolderSource WithPreprocessing(IInputPreprocessing preprocessing)
    {
        ArgumentNullException.ThrowIfNull(preprocessing);
        return new ImageFolderSource(Folder, _settings, [.. ClassNames], _files, _labels, Skipped, _resident, preprocessing);
    }

    /// <inheritdoc />
    public Tensor Read(IReadOnlyList<int> positions)
    {
        ArgumentNullException.ThrowIfNull(positions);
        int size = (int)(InputShape[0] * InputShape[1] * InputShape[2]);
        var pixels = new byte[(long)positions.Count * size];
        for (int i = 0; i < positions.Count; i++)
        {
            int position = positions[i];
            if ((uint)position >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(positions), position, $"Position {position} is outside the {Count} images.");
            if (_resident is not null)
            {
                _resident.Pixels.Slice(position * size, size).CopyTo(pixels.AsSpan(i * size, size));
                continue;
            }

            if (ImageFolder.TryDecode(_files[position], _settings, pixels.AsSpan(i * size, size)) is { } problem)
                throw new InvalidDataException($"'{_files[position]}' is no longer a readable image: {problem}.");
        }

        return tensor(pixels, new long[] { positions.Count, InputShape[0], InputShape[1], InputShape[2] }).DetachFromDisposeScope();
    }
}
