using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Threading.Tasks;
using MetricLearning.Mnist.Idx;
using SkiaSharp;

// Writes an IDX image set (MNIST, Fashion-MNIST, ...) out as an image folder: one sub-folder per label, one PNG per
// image, the layout ImageFolder (and torchvision's ImageFolder) reads. Images are read in batches, so any size fits.
var images = new Option<string>("--images") { Description = "IDX images file (plain or .gz), rank 3: count, rows, columns.", Required = true };
var labels = new Option<string>("--labels") { Description = "IDX labels file of the same images.", Required = true };
var output = new Option<string>("--output") { Description = "Folder to write; a sub-folder per label is made in it.", Required = true };
var root = new RootCommand("Write an IDX image set as PNG files, one folder per label.") { images, labels, output };
root.SetAction(result =>
{
    try
    {
        using var pictures = IdxRecordReader.Open(result.GetValue(images)!, expectedRank: 3);
        using var classes = IdxRecordReader.Open(result.GetValue(labels)!, expectedRank: 1);
        if (classes.Count != pictures.Count)
            throw new ArgumentException($"'{classes.Path}' holds {classes.Count} labels for the {pictures.Count} images of '{pictures.Path}'.");
        string folder = result.GetValue(output)!;
        int height = pictures.RecordShape[0], width = pictures.RecordShape[1], size = pictures.RecordSize;
        int digits = (pictures.Count - 1).ToString(CultureInfo.InvariantCulture).Length;
        const int Batch = 4096;
        var pixels = new byte[Batch * size];
        var labelBytes = new byte[Batch];
        for (int done = 0; done < pictures.Count;)
        {
            int count = pictures.Read(pixels);
            classes.Read(labelBytes.AsSpan(0, count));
            int first = done;
            Parallel.For(0, count, i =>
            {
                string classFolder = Path.Combine(folder, labelBytes[i].ToString(CultureInfo.InvariantCulture));
                Directory.CreateDirectory(classFolder);
                using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
                System.Runtime.InteropServices.Marshal.Copy(pixels, i * size, bitmap.GetPixels(), size);
                using var image = SKImage.FromBitmap(bitmap);
                using var png = image.Encode(SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(Path.Combine(classFolder, (first + i).ToString("D" + digits, CultureInfo.InvariantCulture) + ".png"), png.ToArray());
            });
            done += count;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT images={pictures.Count} size={width}x{height} folder={Path.GetFullPath(folder)}"));
        return 0;
    }
    catch (Exception ex) when (ex is ArgumentException or IOException or IdxFormatException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"error: {ex.Message}");
        return 1;
    }
});

return root.Parse(args).Invoke();
