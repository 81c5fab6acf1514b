using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Tests.TestSupport;
using SkiaSharp;
using Xunit;

namespace MetricLearning.Tests.Core.Data;

public sealed class ImageFolderTests
{
    /// <summary>Writes an image whose pixel (x, y) has the colour <paramref name="colour"/> gives, in the format asked for.</summary>
    private static void Write(string path, int width, int height, Func<int, int, SKColor> colour, SKEncodedImageFormat format)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
                bitmap.SetPixel(x, y, colour(x, y));
        }

        using var image = SKImage.FromBitmap(bitmap);
        using var encoded = image.Encode(format, 100);
        File.WriteAllBytes(path, encoded.ToArray());
    }

    private static SKColor Gray(int value) => new((byte)value, (byte)value, (byte)value);

    /// <summary>A 24-bit BMP written byte by byte (SkiaSharp decodes BMP but does not encode it).</summary>
    private static void WriteBmp(string path, int width, int height, Func<int, int, byte> gray)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        int stride = (3 * width + 3) / 4 * 4, size = 54 + stride * height;
        var bytes = new byte[size];
        "BM"u8.CopyTo(bytes);
        BitConverter.GetBytes(size).CopyTo(bytes, 2);
        BitConverter.GetBytes(54).CopyTo(bytes, 10);
        BitConverter.GetBytes(40).CopyTo(bytes, 14);
        BitConverter.GetBytes(width).CopyTo(bytes, 18);
        BitConverter.GetBytes(height).CopyTo(bytes, 22);
        BitConverter.GetBytes((short)1).CopyTo(bytes, 26);
        BitConverter.GetBytes((short)24).CopyTo(bytes, 28);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int at = 54 + (height - 1 - y) * stride + 3 * x; // rows bottom-up, blue-green-red
                bytes[at] = bytes[at + 1] = bytes[at + 2] = gray(x, y);
            }
        }

        File.WriteAllBytes(path, bytes);
    }

    [Fact]
    public void Classes_files_labels_and_pixels_come_back_in_ordinal_order_whatever_the_extension_case()
    {
        using var folder = new TempFolder();
        Write(folder.File("b-cats/2.PNG"), 4, 4, (x, y) => Gray(10 * x + y), SKEncodedImageFormat.Png);
        Write(folder.File("b-cats/10.png"), 4, 4, (x, y) => Gray(200), SKEncodedImageFormat.Png);
        WriteBmp(folder.File("a-dogs/x.bmp"), 4, 4, (x, y) => (byte)(x == y ? 255 : 0));

        var images = ImageFolder.Load(folder.Path, new ImageFolderOptions { Height = 4, Width = 4 });

        images.ClassNames.Should().Equal("a-dogs", "b-cats");
        images.Files.Select(Path.GetFileName).Should().Equal("x.bmp", "10.png", "2.PNG");
        images.Labels.Should().Equal(0, 1, 1);
        images.Channels.Should().Be(1);
        images.Skipped.Should().BeEmpty();
        var pixels = images.Pixels.ToArray();
        pixels.Take(16).Should().Equal(Enumerable.Range(0, 16).Select(i => (byte)(i / 4 == i % 4 ? 255 : 0)), "the BMP's diagonal, row-major");
        pixels.Skip(16).Take(16).Should().AllBeEquivalentTo((byte)200);
        pixels.Skip(32).Should().Equal(Enumerable.Range(0, 16).Select(i => (byte)(10 * (i % 4) + i / 4)), "pixel (x, y) of the PNG holds 10x + y");
    }

    [Fact]
    public void A_grayscale_png_decodes_to_the_bytes_of_the_same_picture_stored_in_colour()
    {
        using var folder = new TempFolder();
        static byte Value(int x, int y) => (byte)(37 * x + 11 * y);
        Directory.CreateDirectory(folder.File("a"));
        using (var bitmap = new SKBitmap(new SKImageInfo(6, 5, SKColorType.Gray8, SKAlphaType.Opaque)))
        {
            for (int y = 0; y < 5; y++)
            {
                for (int x = 0; x < 6; x++)
                    bitmap.SetPixel(x, y, Gray(Value(x, y)));
            }

            using var image = SKImage.FromBitmap(bitmap);
            using var encoded = image.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(folder.File("a/1-gray.png"), encoded.ToArray());
        }

        Write(folder.File("a/2-colour.png"), 6, 5, (x, y) => Gray(Value(x, y)), SKEncodedImageFormat.Png);
        using (var gray = SKCodec.Create(folder.File("a/1-gray.png")))
        using (var colour = SKCodec.Create(folder.File("a/2-colour.png")))
        {
            gray.Info.ColorType.Should().Be(SKColorType.Gray8, "the first file is a one-channel PNG (decoded straight to bytes)");
            colour.Info.ColorType.Should().NotBe(SKColorType.Gray8, "the second is a colour PNG (decoded through RGBA)");
        }

        var images = ImageFolder.Load(folder.Path, new ImageFolderOptions { Height = 5, Width = 6 });

        var expected = Enumerable.Range(0, 30).Select(i => Value(i % 6, i / 6)).ToArray();
        images.Pixels.Slice(0, 30).ToArray().Should().Equal(expected);
        images.Pixels.Slice(30, 30).ToArray().Should().Equal(expected);
    }

    [Fact]
    public void Colour_images_are_stored_channel_first_and_scaled_to_one_in_the_input_set()
    {
        using var folder = new TempFolder();
        Write(folder.File("only/a.png"), 2, 3, (x, y) => new SKColor((byte)(x * 100), (byte)(y * 50), 7), SKEncodedImageFormat.Png);

        var images = ImageFolder.Load(folder.Path, new ImageFolderOptions { Height = 3, Width = 2, Grayscale = false });
        using var inputs = images.ToInputSet();

        images.InputSize.Should().Be(3 * 3 * 2);
        images.Pixels.ToArray().Should().Equal(
            new byte[] { 0, 100, 0, 100, 0, 100 }.Concat(new byte[] { 0, 0, 50, 50, 100, 100 }).Concat(Enumerable.Repeat((byte)7, 6)));
        inputs.Data.shape.Should().Equal(1, 3, 3, 2);
        using var batch = inputs.Gather(TorchSharp.torch.tensor(new long[] { 0 }));
        batch[0, 0, 0, 1].item<float>().Should().BeApproximately(100f / 255f, 1e-6f);
    }

    [Fact]
    public void An_image_of_another_size_is_scaled_to_cover_and_cropped_at_the_centre()
    {
        using var folder = new TempFolder();
        // 8 wide, 4 high, column x holding 20x: covering 4x4 needs no scaling, only the middle four columns.
        Write(folder.File("c/wide.png"), 8, 4, (x, y) => Gray(20 * x), SKEncodedImageFormat.Png);

        var images = ImageFolder.Load(folder.Path, new ImageFolderOptions { Height = 4, Width = 4 });

        images.Pixels.ToArray().Should().Equal(Enumerable.Range(0, 16).Select(i => (byte)(20 * (2 + i % 4))));
    }

    [Fact]
    public void A_damaged_jpeg_an_empty_file_and_a_text_file_are_refused_naming_the_first_or_skipped_and_reported()
    {
        using var folder = new TempFolder();
        Write(folder.File("one/good.png"), 4, 4, (x, y) => Gray(x), SKEncodedImageFormat.Png);
        Write(folder.File("one/photo.jpg"), 64, 64, (x, y) => Gray((x * y) % 256), SKEncodedImageFormat.Jpeg);
        byte[] jpeg = File.ReadAllBytes(folder.File("one/photo.jpg"));
        File.WriteAllBytes(folder.File("one/photo.jpg"), jpeg[..(jpeg.Length / 2)]);
        Directory.CreateDirectory(folder.File("two"));
        File.WriteAllBytes(folder.File("two/empty.png"), Array.Empty<byte>());
        File.WriteAllText(folder.File("two/notes.txt"), "not an image");
        Write(folder.File("two/good.png"), 4, 4, (x, y) => Gray(y), SKEncodedImageFormat.Png);

        var strict = () => ImageFolder.Load(folder.Path, new ImageFolderOptions { Height = 4, Width = 4 });
        var logger = new RecordingLogger();
        var lenient = ImageFolder.Load(folder.Path, new ImageFolderOptions { Height = 4, Width = 4, SkipUnreadable = true }, logger);

        strict.Should().Throw<InvalidDataException>().WithMessage($"'{folder.File("one/photo.jpg")}' is not a readable image: it is damaged*2 more unreadable files*SkipUnreadable*");
        lenient.Files.Select(Path.GetFileName).Should().Equal("good.png", "good.png");
        lenient.Labels.Should().Equal(0, 1);
        lenient.Skipped.Should().HaveCount(3);
        lenient.Skipped[0].Should().StartWith(folder.File("one/photo.jpg"));
        lenient.Skipped[1].Should().StartWith(folder.File("two/empty.png")).And.Contain("empty");
        lenient.Skipped[2].Should().StartWith(folder.File("two/notes.txt")).And.Contain("not an image");
        logger.Events.Where(e => e.Id.Id == 2101).Should().HaveCount(3);
    }

    [Fact]
    public void A_missing_or_empty_folder_is_refused_naming_it()
    {
        using var folder = new TempFolder();

        var missing = () => ImageFolder.Load(folder.File("nope"));
        var empty = () => ImageFolder.Load(folder.Path);

        missing.Should().Throw<DirectoryNotFoundException>().WithMessage("*nope*");
        empty.Should().Throw<InvalidDataException>().WithMessage($"*'{folder.Path}' has no class folders*");
    }

    [Fact]
    public async Task A_named_pipe_among_the_images_is_reported_without_waiting_for_a_writer()
    {
        if (!ImageFileBytes.ReadsWithCLibrary)
            return;   // .NET's own file API waits for a pipe's writer; only the C library path opens it without waiting
        using var folder = new TempFolder();
        Write(folder.File("one/good.png"), 4, 4, (x, y) => Gray(x), SKEncodedImageFormat.Png);
        Directory.CreateDirectory(folder.File("two"));
        var start = new ProcessStartInfo("mkfifo") { ArgumentList = { folder.File("two/pipe.png") } };
        using (var mkfifo = Process.Start(start)!)
        {
            await mkfifo.WaitForExitAsync();
            mkfifo.ExitCode.Should().Be(0, "mkfifo made the pipe");
        }

        Write(folder.File("two/good.png"), 4, 4, (x, y) => Gray(y), SKEncodedImageFormat.Png);

        // Opening a pipe for reading waits for a writer unless asked not to; the time-out (a TimeoutException) fails the
        // test instead of hanging CI.
        var load = Task.Run(() => ImageFolder.Load(folder.Path, new ImageFolderOptions { Height = 4, Width = 4, SkipUnreadable = true }));
        var loaded = await load.WaitAsync(TimeSpan.FromMinutes(1));

        loaded.Files.Select(Path.GetFileName).Should().Equal("good.png", "good.png");
        loaded.Skipped.Should().ContainSingle().Which.Should().StartWith(folder.File("two/pipe.png")).And.EndWith("it is not a regular file");
    }

    [Fact]
    public void A_file_removed_after_a_streaming_source_is_opened_stops_the_read_naming_it()
    {
        using var folder = new TempFolder();
        Write(folder.File("one/a.png"), 4, 4, (x, y) => Gray(x), SKEncodedImageFormat.Png);
        Write(folder.File("one/b.png"), 4, 4, (x, y) => Gray(y), SKEncodedImageFormat.Png);
        var source = ImageFolderSource.Open(folder.Path, new ImageFolderOptions { Height = 4, Width = 4 });
        File.Delete(folder.File("one/b.png"));

        using var first = source.Read(new[] { 0 });
        var second = () => source.Read(new[] { 1 });

        first.shape.Should().Equal(1, 1, 4, 4);
        second.Should().Throw<InvalidDataException>().WithMessage($"'{folder.File("one/b.png")}' is no longer a readable image: it could not be read*");
    }

    [Fact]
    public void The_c_library_reader_and_the_dotnet_reader_give_the_same_pixels_and_the_same_refusals()
    {
        if (!ImageFileBytes.ReadsWithCLibrary)
            return;   // only .NET's reader here: nothing to compare it with
        using var folder = new TempFolder();
        Write(folder.File("one/a.png"), 6, 5, (x, y) => new SKColor((byte)(40 * x), (byte)(50 * y), 7), SKEncodedImageFormat.Png);
        Write(folder.File("one/b.jpg"), 9, 9, (x, y) => Gray(25 * x + y), SKEncodedImageFormat.Jpeg);
        Directory.CreateDirectory(folder.File("two"));
        File.WriteAllBytes(folder.File("two/empty.png"), Array.Empty<byte>());
        File.WriteAllText(folder.File("two/notes.txt"), "not an image");
        Write(folder.File("two/c.png"), 4, 4, (x, y) => Gray(60 * y), SKEncodedImageFormat.Png);
        var options = new ImageFolderOptions { Height = 4, Width = 4, Grayscale = false, SkipUnreadable = true };

        var withC = ImageFolder.Load(folder.Path, options);
        ImageFolder withDotnet;
        // Tests in this class run one at a time, so the pipe test never sees .NET's reader; other classes' reads
        // merely take .NET's path for a moment.
        ImageFileBytes.ReadsWithCLibrary = false;
        try
        {
            withDotnet = ImageFolder.Load(folder.Path, options);
        }
        finally
        {
            ImageFileBytes.ReadsWithCLibrary = true;
        }

        withC.Files.Should().Equal(withDotnet.Files);
        withC.Pixels.ToArray().Should().Equal(withDotnet.Pixels.ToArray(), "both read the same bytes");
        withC.Skipped.Should().HaveCount(2).And.Equal(withDotnet.Skipped, "the same files are refused for the same reasons");
        withC.Pixels.ToArray().Should().Contain(b => b > 0, "the images are not blank");
    }
}
