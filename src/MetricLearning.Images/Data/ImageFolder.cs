using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using SkiaSharp;
using static TorchSharp.torch;

namespace MetricLearning.Data;

/// <summary>
/// A labelled image set read from a folder with one sub-folder per class (torchvision's ImageFolder layout): PNG,
/// JPEG, BMP, GIF and WebP, any letter case, decoded with SkiaSharp on several threads and brought to one size, kept in
/// memory as bytes (a quarter of float32).
/// </summary>
/// <remarks>
/// <para>
/// Classes are the sub-folders' names in ordinal order, labelled 0, 1, ...; files are taken in ordinal order of their
/// names. Every file in a class folder is read: one that is not a readable image (damaged, empty, or not an image at
/// all) stops the load naming the first such file, or with <see cref="ImageFolderOptions.SkipUnreadable"/> is left out
/// and reported. An image of another size is scaled so that it covers the target size and cropped at its centre
/// (torchvision's Resize then CenterCrop); one of the target size is kept as it is.
/// </para>
/// <para>Pixels are stored channel-first (<c>[C, H, W]</c> per image); <see cref="ToInputSet"/> scales them to [0, 1].</para>
/// </remarks>
public sealed class ImageFolder
{
    private static readonly EventId SkippedFile = new(2101, "ImageSkipped");
    private readonly byte[] _pixels;

    private ImageFolder(string folder, IReadOnlyList<string> classNames, IReadOnlyList<string> files, IReadOnlyList<int> labels,
        byte[] pixels, int channels, int height, int width, IReadOnlyList<string> skipped)
    {
        Folder = folder;
        ClassNames = classNames;
        Files = files;
        Labels = labels;
        _pixels = pixels;
        Channels = channels;
        Height = height;
        Width = width;
        Skipped = skipped;
    }

    /// <summary>The folder that was read.</summary>
    public string Folder { get; }

    /// <summary>The class folders' names; label i is <c>ClassNames[i]</c>.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The image files read, in order.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>The label of each image, in order.</summary>
    public IReadOnlyList<int> Labels { get; }

    /// <summary>How many images were read.</summary>
    public int Count => Labels.Count;

    /// <summary>Channels per image: 1 (grayscale) or 3 (RGB).</summary>
    public int Channels { get; }

    /// <summary>Rows of every image.</summary>
    public int Height { get; }

    /// <summary>Columns of every image.</summary>
    public int Width { get; }

    /// <summary>Values per image: <see cref="Channels"/> x <see cref="Height"/> x <see cref="Width"/>.</summary>
    public int InputSize => Channels * Height * Width;

    /// <summary>Files left out with <see cref="ImageFolderOptions.SkipUnreadable"/>, each with the reason ("path: reason").</summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>The pixels, channel-first per image, images in order.</summary>
    public ReadOnlySpan<byte> Pixels => _pixels;

    /// <summary>Reads a folder of class folders of images.</summary>
    /// <param name="folder">The folder; each sub-folder is a class.</param>
    /// <param name="options">Size, channels, what to do with unreadable files; null for the defaults.</param>
    /// <param name="logger">Told of each skipped file (event 2101); null for none.</param>
    /// <returns>The images and labels.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// The folder has no class folders or no images, or a file is not a readable image (named) and skipping is off, or
    /// the decoded images would take more than one array holds (2 GB).
    /// </exception>
    public static ImageFolder Load(string folder, ImageFolderOptions? options = null, ILogger? logger = null)
    {
        var settings = (options ?? new ImageFolderOptions()).Clone();
        var scan = Scan(folder, settings, logger, keepPixels: true);
        return new ImageFolder(folder, scan.ClassNames, scan.Files, scan.Labels, scan.Pixels!, settings.Grayscale ? 1 : 3, settings.Height, settings.Width, scan.Skipped);
    }

    /// <summary>What <see cref="Scan"/> found: the readable files and their labels, their pixels if kept, what was skipped.</summary>
    internal sealed record ScanResult(string[] ClassNames, string[] Files, int[] Labels, byte[]? Pixels, IReadOnlyList<string> Skipped);

    /// <summary>
    /// Lists the class folders and decodes every file once on several threads, refusing or skipping unreadable ones
    /// as the options say; keeps the pixels only when asked (a streaming source checks the files and drops them).
    /// </summary>
    internal static ScanResult Scan(string folder, ImageFolderOptions settings, ILogger? logger, bool keepPixels)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        settings.Validate();
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"No image folder at '{folder}'.");
        var classFolders = Directory.GetDirectories(folder).OrderBy(path => Path.GetFileName(path), StringComparer.Ordinal).ToArray();
        if (classFolders.Length == 0)
            throw new InvalidDataException($"'{folder}' has no class folders: put each class's images in a sub-folder named after it.");
        var candidates = classFolders
            .SelectMany((classFolder, label) => Directory.GetFiles(classFolder).OrderBy(path => Path.GetFileName(path), StringComparer.Ordinal).Select(file => (file, label)))
            .ToArray();
        if (candidates.Length == 0)
            throw new InvalidDataException($"The class folders of '{folder}' hold no files.");

        int channels = settings.Grayscale ? 1 : 3, size = channels * settings.Height * settings.Width;
        if (keepPixels && (long)candidates.Length * size > Array.MaxLength)
            throw new InvalidDataException($"The {candidates.Length:N0} files of '{folder}' at {channels}x{settings.Height}x{settings.Width} would take {(double)candidates.Length * size / 1e9:F1} GB decoded, more than one array holds in memory (2 GB): stream them instead (ImageFolderSource.Open without keepInMemory; the ImageRetrieval sample's --stream) or choose a smaller size.");
        // Kept pixels are decoded in place, one slot per file; a checking scan decodes into a buffer per thread.
        var decoded = keepPixels ? new byte[(long)candidates.Length * size] : null;
        var problems = new string?[candidates.Length];
        Parallel.For(0, candidates.Length, new ParallelOptions { MaxDegreeOfParallelism = settings.Threads == 0 ? Environment.ProcessorCount : settings.Threads },
            () => decoded is null ? new byte[size] : null,
            (i, _, scratch) =>
            {
                var destination = scratch is not null ? scratch.AsSpan() : decoded.AsSpan((int)((long)i * size), size);
                problems[i] = TryDecode(candidates[i].file, settings, destination);
                return scratch;
            },
            _ => { });

        var skipped = new List<string>();
        int others = problems.Count(p => p is not null) - 1;
        for (int i = 0; i < candidates.Length; i++)
        {
            if (problems[i] is not { } problem)
                continue;
            if (!settings.SkipUnreadable)
                throw new InvalidDataException($"'{candidates[i].file}' is not a readable image: {problem}" + (others > 0 ? $" ({others} more unreadable files follow; ImageFolderOptions.SkipUnreadable leaves them out)" : "") + ".");
            skipped.Add($"{candidates[i].file}: {problem}");
            logger?.LogWarning(SkippedFile, "Skipped {File}: {Problem}", candidates[i].file, problem);
        }

        var kept = Enumerable.Range(0, candidates.Length).Where(i => problems[i] is null).ToArray();
        if (kept.Length == 0)
            throw new InvalidDataException($"None of the {candidates.Length} files in the class folders of '{folder}' is a readable image.");
        byte[]? all = decoded;
        if (decoded is not null && kept.Length < candidates.Length)
        {
            all = new byte[(long)kept.Length * size];
            for (int j = 0; j < kept.Length; j++)
                decoded.AsSpan((int)((long)kept[j] * size), size).CopyTo(all.AsSpan((int)((long)j * size), size));
        }

        return new ScanResult(classFolders.Select(path => Path.GetFileName(path)).ToArray(),
            kept.Select(i => candidates[i].file).ToArray(), kept.Select(i => candidates[i].label).ToArray(), all, skipped);
    }

    /// <summary>Decodes one file into <paramref name="destination"/> (channels x height x width bytes); null on success, else why it is not a readable image.</summary>
    internal static string? TryDecode(string path, ImageFolderOptions settings, Span<byte> destination)
    {
        try
        {
            DecodeInto(path, settings, destination);
            return null;
        }
        catch (InvalidDataException ex)
        {
            return ex.Message;
        }
        catch (IOException ex)
        {
            return $"it could not be read: {ex.Message}";
        }
        catch (UnauthorizedAccessException ex)
        {
            return $"it could not be read: {ex.Message}";
        }
    }

    /// <summary>
    /// The images as one resident tensor of bytes <c>[N, C, H, W]</c>, preprocessed as each batch is gathered: scaled
    /// to [0, 1] (divided by 255, as float32) unless another preprocessing is given.
    /// </summary>
    /// <param name="device">Where the tensor lives; the CPU if null.</param>
    /// <param name="preprocessing">
    /// What turns the bytes into network inputs, saved with a model trained on them (for example a
    /// <see cref="ChannelNormalization"/> from <see cref="ChannelNormalization.Measure(TorchSharp.torch.Tensor, float)"/>); null for a scale of 1/255.
    /// </param>
    /// <returns>A new input set (the caller disposes it).</returns>
    public InputSet ToInputSet(Device? device = null, IInputPreprocessing? preprocessing = null)
    {
        using var host = tensor(_pixels, new long[] { Count, Channels, Height, Width });
        var data = device is null || device.type == TorchSharp.DeviceType.CPU ? host.alias() : host.to(device);
        return new InputSet(data, preprocessing ?? new InputScaling(1f / 255f));
    }

    /// <summary>One file, decoded, brought to the target size, written into <paramref name="destination"/> as channel-first bytes.</summary>
    /// <remarks>
    /// Streaming decodes every file of every epoch, so this is kept lean: the file is read whole into a pooled buffer
    /// with as few system calls as the platform allows (<see cref="ImageFileBytes"/>), few SkiaSharp objects are
    /// made (SkiaSharp registers each in a process-wide table under a lock, which is what limits decoding on several
    /// threads), and a grayscale file of the target size, wanted as grayscale, is decoded straight to one byte per
    /// pixel (the same values as the colour path gives it: its red, green and blue are equal).
    /// </remarks>
    private static void DecodeInto(string path, ImageFolderOptions settings, Span<byte> destination)
    {
        var encoded = ImageFileBytes.Read(path, out int length);
        try
        {
            using var data = SKData.CreateCopy(encoded.AsSpan(0, length));
            using var codec = SKCodec.Create(data) ?? throw new InvalidDataException("it is not an image SkiaSharp decodes (PNG, JPEG, BMP, GIF, WebP)");
            var codecInfo = codec.Info;   // a native call each time it is read
            int width = codecInfo.Width, height = codecInfo.Height;
            if (width > 16384 || height > 16384)
                throw new InvalidDataException($"it is {width}x{height}, larger than 16,384 pixels a side");
            bool direct = settings.Grayscale && width == settings.Width && height == settings.Height && codecInfo.ColorType == SKColorType.Gray8;
            var info = direct
                ? new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque)
                : new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
            int decodedLength = info.BytesSize;
            var decoded = ImageFileBytes.Rent(decodedLength);
            try
            {
                var handle = GCHandle.Alloc(decoded, GCHandleType.Pinned);
                try
                {
                    var result = codec.GetPixels(info, handle.AddrOfPinnedObject());
                    if (result != SKCodecResult.Success)
                        throw new InvalidDataException($"it is damaged (SkiaSharp: {result})");
                }
                finally
                {
                    handle.Free();
                }

                if (direct)
                {
                    decoded.AsSpan(0, decodedLength).CopyTo(destination);
                    return;
                }

                var rgba = width != settings.Width || height != settings.Height
                    ? Fit(decoded, width, height, settings.Width, settings.Height)
                    : decoded;
                WriteChannels(rgba, settings.Grayscale, settings.Height * settings.Width, destination);
            }
            finally
            {
                ImageFileBytes.Return(decoded);
            }
        }
        finally
        {
            ImageFileBytes.Return(encoded);
        }
    }

    /// <summary>RGBA pixels of the target size as channel-first luminance (ITU-R BT.601 weights) or red, green, blue planes.</summary>
    private static void WriteChannels(byte[] rgba, bool grayscale, int plane, Span<byte> destination)
    {
        for (int p = 0; p < plane; p++)
        {
            byte red = rgba[4 * p], green = rgba[4 * p + 1], blue = rgba[4 * p + 2];
            if (grayscale)
            {
                destination[p] = (byte)Math.Clamp(MathF.Round(0.299f * red + 0.587f * green + 0.114f * blue), 0, 255);
            }
            else
            {
                destination[p] = red;
                destination[plane + p] = green;
                destination[2 * plane + p] = blue;
            }
        }
    }

    /// <summary>RGBA pixels of another size scaled to cover the target size and cropped at the centre.</summary>
    private static byte[] Fit(byte[] rgba, int sourceWidth, int sourceHeight, int width, int height)
    {
        float scale = Math.Max(width / (float)sourceWidth, height / (float)sourceHeight);
        float cropWidth = width / scale, cropHeight = height / scale;
        var from = SKRect.Create((sourceWidth - cropWidth) / 2, (sourceHeight - cropHeight) / 2, cropWidth, cropHeight);
        var sourceInfo = new SKImageInfo(sourceWidth, sourceHeight, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var targetInfo = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var output = new byte[4 * width * height];
        var source = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        var target = GCHandle.Alloc(output, GCHandleType.Pinned);
        try
        {
            using var image = SKImage.FromPixels(sourceInfo, source.AddrOfPinnedObject(), 4 * sourceWidth);
            using var surface = SKSurface.Create(targetInfo, target.AddrOfPinnedObject(), 4 * width);
            // Shrinking averages through mipmaps; enlarging uses Catmull-Rom, which interpolates.
            var sampling = scale < 1 ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear) : new SKSamplingOptions(SKCubicResampler.CatmullRom);
            surface.Canvas.DrawImage(image, from, SKRect.Create(width, height), sampling, null);
            surface.Flush();
        }
        finally
        {
            source.Free();
            target.Free();
        }

        return output;
    }
}
