using System;
using SkiaSharp;

namespace SearchService;

/// <summary>
/// Turns an uploaded or drawn picture into an MNIST-style input, and an indexed image back into a PNG: what the page
/// needs around the model, kept out of the library because it is specific to small grayscale digits.
/// </summary>
public static class DigitImages
{
    /// <summary>Largest width or height of an uploaded picture.</summary>
    public const int LargestSide = 2048;

    /// <summary>
    /// Decodes a picture (PNG, JPEG, BMP, GIF, WebP) into <paramref name="side"/>×<paramref name="side"/> pixel values
    /// 0-255 as MNIST's were made: a light digit on a dark background (dark-on-light pictures are inverted; transparent
    /// pixels count as background). A picture of <paramref name="side"/>×<paramref name="side"/> is taken as it is;
    /// any other has its digit's bounding box scaled to fit 20/28 of the side and is placed with its centre of mass in
    /// the middle, as MNIST's digits were.
    /// </summary>
    /// <exception cref="ArgumentException">The bytes are not a picture, it is larger than <see cref="LargestSide"/>, or it is blank; the message says which.</exception>
    public static float[] ToInput(ReadOnlySpan<byte> encoded, int side)
    {
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data);
        if (codec is null)
            throw new ArgumentException("The upload is not a picture this service reads (PNG, JPEG, BMP, GIF or WebP).");
        if (codec.Info.Width > LargestSide || codec.Info.Height > LargestSide)
            throw new ArgumentException($"The picture is {codec.Info.Width}x{codec.Info.Height}; at most {LargestSide}x{LargestSide} is accepted.");
        using var bitmap = SKBitmap.Decode(codec, new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul))
            ?? throw new ArgumentException("The picture could not be decoded; it may be damaged.");

        int width = bitmap.Width, height = bitmap.Height;
        var rgba = bitmap.GetPixelSpan();
        var light = new float[width * height];
        var alpha = new float[width * height];
        bool opaque = true;
        double sum = 0, visible = 0, visibleSum = 0;
        for (int i = 0; i < light.Length; i++)
        {
            float value = 0.299f * rgba[4 * i] + 0.587f * rgba[4 * i + 1] + 0.114f * rgba[4 * i + 2];
            alpha[i] = rgba[4 * i + 3] / 255f;
            opaque &= rgba[4 * i + 3] == 255;
            light[i] = value;
            sum += value;
            visible += alpha[i];
            visibleSum += alpha[i] * value;
        }

        if (opaque)
        {
            // A dark digit on a light background becomes a light digit on a dark one.
            if (sum / light.Length > 127)
            {
                for (int i = 0; i < light.Length; i++)
                    light[i] = 255 - light[i];
            }
        }
        else
        {
            // Transparent pixels are background; the visible ones are the ink, dark or light.
            bool darkInk = visible > 0 && visibleSum / visible < 128;
            for (int i = 0; i < light.Length; i++)
                light[i] = alpha[i] * (darkInk ? 255 - light[i] : light[i]);
        }

        float peak = 0;
        foreach (float value in light)
            peak = Math.Max(peak, value);
        if (peak < 1)
            throw new ArgumentException("The picture is blank: there is no digit to search for.");
        if (width == side && height == side)
            return Array.ConvertAll(light, value => MathF.Round(value));

        // The digit's bounding box: pixels above a tenth of the brightest.
        int left = width, top = height, right = -1, bottom = -1;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                if (light[y * width + x] > peak / 10)
                {
                    left = Math.Min(left, x);
                    right = Math.Max(right, x);
                    top = Math.Min(top, y);
                    bottom = Math.Max(bottom, y);
                }
            }
        }

        using var gray = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        var bytes = new byte[width * height];
        for (int i = 0; i < bytes.Length; i++)
            bytes[i] = (byte)Math.Clamp(MathF.Round(light[i]), 0, 255);
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, gray.GetPixels(), bytes.Length);

        float box = side * 20f / 28f;
        float scale = box / Math.Max(right - left + 1, bottom - top + 1);
        float drawnWidth = (right - left + 1) * scale, drawnHeight = (bottom - top + 1) * scale;
        var target = new SKRect((side - drawnWidth) / 2, (side - drawnHeight) / 2, (side + drawnWidth) / 2, (side + drawnHeight) / 2);
        using var surface = SKSurface.Create(new SKImageInfo(side, side, SKColorType.Gray8, SKAlphaType.Opaque));
        surface.Canvas.Clear(SKColors.Black);
        // Shrinking (a drawing on the 280-pixel pad) averages through mipmaps so that thin strokes survive; enlarging
        // uses Catmull-Rom, which interpolates: at scale 1 (an MNIST image) the pixels come through unchanged.
        var sampling = scale < 1 ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear) : new SKSamplingOptions(SKCubicResampler.CatmullRom);
        using (var image = SKImage.FromBitmap(gray))
            surface.Canvas.DrawImage(image, new SKRect(left, top, right + 1, bottom + 1), target, sampling, null);
        var pixels = new byte[side * side];
        using (var snapshot = surface.Snapshot())
        using (var raster = snapshot.ToRasterImage())
        {
            var info = new SKImageInfo(side, side, SKColorType.Gray8, SKAlphaType.Opaque);
            var handle = System.Runtime.InteropServices.GCHandle.Alloc(pixels, System.Runtime.InteropServices.GCHandleType.Pinned);
            try
            {
                raster.ReadPixels(info, handle.AddrOfPinnedObject(), side, 0, 0);
            }
            finally
            {
                handle.Free();
            }
        }

        return CentreOfMassInMiddle(Array.ConvertAll(pixels, p => (float)p), side);
    }

    /// <summary>Moves the image by whole pixels so that its centre of mass is as near the middle as the digit allows.</summary>
    private static float[] CentreOfMassInMiddle(float[] image, int side)
    {
        double mass = 0, x = 0, y = 0;
        int left = side, top = side, right = -1, bottom = -1;
        for (int row = 0; row < side; row++)
        {
            for (int column = 0; column < side; column++)
            {
                float value = image[row * side + column];
                if (value <= 0)
                    continue;
                mass += value;
                x += value * column;
                y += value * row;
                left = Math.Min(left, column);
                right = Math.Max(right, column);
                top = Math.Min(top, row);
                bottom = Math.Max(bottom, row);
            }
        }

        if (mass == 0)
            return image;
        double middle = (side - 1) / 2.0;
        int dx = Math.Clamp((int)Math.Round(middle - x / mass), -left, side - 1 - right);
        int dy = Math.Clamp((int)Math.Round(middle - y / mass), -top, side - 1 - bottom);
        var moved = new float[image.Length];
        for (int row = top; row <= bottom; row++)
        {
            for (int column = left; column <= right; column++)
                moved[(row + dy) * side + column + dx] = image[row * side + column];
        }

        return moved;
    }

    /// <summary>A grayscale image (one byte per pixel, row-major) as a PNG.</summary>
    public static byte[] ToPng(ReadOnlySpan<byte> pixels, int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        System.Runtime.InteropServices.Marshal.Copy(pixels.ToArray(), 0, bitmap.GetPixels(), width * height);
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }
}
