using System;
using static TorchSharp.torch;

namespace MetricLearning.Data;

/// <summary>
/// Seeded augmentation of image batches <c>[N, C, H, W]</c>, each image drawn independently: a random resized crop, a
/// horizontal flip, a small rotation, brightness and contrast jitter. Everything is off by default; turn on what keeps
/// your classes (a mirrored shoe is a shoe, a mirrored digit may not be a digit).
/// </summary>
/// <remarks>
/// <para>
/// The crop's area and aspect ratio are drawn as torchvision's <c>RandomResizedCrop</c> draws them, but as fractions
/// of the image's sides (so on a non-square image the aspect ratio in pixels is the drawn one times width / height),
/// and a side that would exceed the image is cut to it instead of drawing again. The geometry (crop, flip, rotation)
/// is one affine map per image, applied to the whole batch by a single bilinear
/// resampling (<c>affine_grid</c> and <c>grid_sample</c>); places that fall outside the source image are 0 (black).
/// Brightness multiplies an image by a factor in <c>[1 − Brightness, 1 + Brightness]</c>; contrast moves it towards or
/// away from its own mean by a factor in <c>[1 − Contrast, 1 + Contrast]</c>; values are then clamped to
/// <c>[0, MaxValue]</c>. These follow torchvision's <c>RandomResizedCrop</c>, <c>RandomHorizontalFlip</c>,
/// <c>RandomRotation</c> and <c>ColorJitter</c>. TorchSharp's TorchVision transforms are not used here: they draw one
/// set of parameters for a whole batch, from an unseeded generator, which is neither per image nor reproducible.
/// </para>
/// <para>Immutable and thread-safe; every random number comes from the <see cref="Random"/> the trainer passes.</para>
/// </remarks>
public sealed class ImageAugmentation : IAugmentation
{
    /// <summary>Creates the augmentation; every setting's default leaves images as they are.</summary>
    /// <param name="minCropArea">
    /// Smallest crop, as a fraction of the image's area, in (0, 1]; a crop of a random area in [minCropArea, 1] and a
    /// random aspect ratio in [3/4, 4/3] (of the image's side fractions) is taken and resized to the image's size. 1
    /// for no crop.
    /// </param>
    /// <param name="horizontalFlip">Mirror half of the images, left to right.</param>
    /// <param name="rotationDegrees">Largest rotation either way, 0 to 180 degrees.</param>
    /// <param name="brightness">Brightness jitter, 0 to 1.</param>
    /// <param name="contrast">Contrast jitter, 0 to 1.</param>
    /// <param name="maxValue">The largest valid input value, for clamping after jitter (255 for pixels kept as bytes).</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public ImageAugmentation(double minCropArea = 1, bool horizontalFlip = false, double rotationDegrees = 0, double brightness = 0, double contrast = 0, double maxValue = 255)
    {
        if (!(minCropArea > 0 && minCropArea <= 1))
            throw new ArgumentOutOfRangeException(nameof(minCropArea), minCropArea, "The smallest crop must be a fraction of the image's area in (0, 1].");
        if (!(rotationDegrees >= 0 && rotationDegrees <= 180))
            throw new ArgumentOutOfRangeException(nameof(rotationDegrees), rotationDegrees, "The rotation must be between 0 and 180 degrees.");
        if (!(brightness >= 0 && brightness <= 1))
            throw new ArgumentOutOfRangeException(nameof(brightness), brightness, "The brightness jitter must be between 0 and 1.");
        if (!(contrast >= 0 && contrast <= 1))
            throw new ArgumentOutOfRangeException(nameof(contrast), contrast, "The contrast jitter must be between 0 and 1.");
        if (!(maxValue > 0 && double.IsFinite(maxValue)))
            throw new ArgumentOutOfRangeException(nameof(maxValue), maxValue, "The largest input value must be positive and finite.");
        MinCropArea = minCropArea;
        HorizontalFlip = horizontalFlip;
        RotationDegrees = rotationDegrees;
        Brightness = brightness;
        Contrast = contrast;
        MaxValue = maxValue;
    }

    /// <summary>Smallest crop, as a fraction of the image's area; 1 for none.</summary>
    public double MinCropArea { get; }

    /// <summary>Whether half of the images are mirrored left to right.</summary>
    public bool HorizontalFlip { get; }

    /// <summary>Largest rotation either way, in degrees.</summary>
    public double RotationDegrees { get; }

    /// <summary>Brightness jitter.</summary>
    public double Brightness { get; }

    /// <summary>Contrast jitter.</summary>
    public double Contrast { get; }

    /// <summary>The largest valid input value, for clamping after jitter.</summary>
    public double MaxValue { get; }

    private bool Moves => MinCropArea < 1 || HorizontalFlip || RotationDegrees > 0;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The inputs are not float32 images <c>[N, C, H, W]</c>.</exception>
    public Tensor Apply(Tensor inputs, Random random)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(random);
        if (inputs.dim() != 4 || inputs.dtype != ScalarType.Float32)
            throw new ArgumentException($"Image augmentation expects float32 images [N, C, H, W]; got {inputs.dtype} {TensorChecks.Shape(inputs)}.", nameof(inputs));

        using var scope = NewDisposeScope();
        int count = (int)inputs.shape[0];
        var result = inputs;
        if (Moves && count > 0)
            result = Resample(result, random, count);
        if ((Brightness > 0 || Contrast > 0) && count > 0)
            result = Jitter(result, random, count);
        return (ReferenceEquals(result, inputs) ? inputs.alias() : result).MoveToOuterDisposeScope();
    }

    /// <summary>One affine map per image: output coordinates (in [-1, 1]) to input coordinates, then bilinear sampling.</summary>
    private Tensor Resample(Tensor images, Random random, int count)
    {
        // Corner-aligned coordinates: -1 and 1 are the centres of the outermost pixels, so a crop inside [-1, 1] never
        // samples beyond them, and the identity, a flip, reproduce pixels exactly. Half-extents are in pixel steps.
        double height = Math.Max(1, images.shape[2] - 1), width = Math.Max(1, images.shape[3] - 1);
        var theta = new float[count * 6];
        for (int i = 0; i < count; i++)
        {
            // Crop: an area fraction and a log-uniform aspect ratio (width / height), as torchvision draws them;
            // sides as fractions of the image's, no larger than the image, centred where the crop stays inside.
            double cropWidth = 1, cropHeight = 1, centreX = 0, centreY = 0;
            if (MinCropArea < 1)
            {
                double area = MinCropArea + (1 - MinCropArea) * random.NextDouble();
                double ratio = Math.Exp(Math.Log(3.0 / 4) + (Math.Log(4.0 / 3) - Math.Log(3.0 / 4)) * random.NextDouble());
                cropWidth = Math.Min(1, Math.Sqrt(area * ratio));
                cropHeight = Math.Min(1, Math.Sqrt(area / ratio));
                centreX = (1 - cropWidth) * (2 * random.NextDouble() - 1);
                centreY = (1 - cropHeight) * (2 * random.NextDouble() - 1);
            }

            double flip = HorizontalFlip && random.NextDouble() < 0.5 ? -1 : 1;
            double angle = RotationDegrees > 0 ? (2 * random.NextDouble() - 1) * RotationDegrees * Math.PI / 180 : 0;
            double cos = Math.Cos(angle), sin = Math.Sin(angle);
            // A rotation in pixels, written in coordinates normalised to [-1, 1] on each axis (which differ in scale
            // when the image is not square), applied after scaling to the crop and before moving to its centre.
            theta[i * 6 + 0] = (float)(cos * cropWidth * flip);
            theta[i * 6 + 1] = (float)(-sin * height / width * cropHeight);
            theta[i * 6 + 2] = (float)centreX;
            theta[i * 6 + 3] = (float)(sin * width / height * cropWidth * flip);
            theta[i * 6 + 4] = (float)(cos * cropHeight);
            theta[i * 6 + 5] = (float)centreY;
        }

        var maps = tensor(theta, new long[] { count, 2, 3 }, device: images.device);
        var grid = nn.functional.affine_grid(maps, images.shape, align_corners: true);
        return nn.functional.grid_sample(images, grid, mode: GridSampleMode.Bilinear, padding_mode: GridSamplePaddingMode.Zeros, align_corners: true);
    }

    private Tensor Jitter(Tensor images, Random random, int count)
    {
        var brightness = new float[count];
        var contrast = new float[count];
        for (int i = 0; i < count; i++)
        {
            brightness[i] = (float)(1 + Brightness * (2 * random.NextDouble() - 1));
            contrast[i] = (float)(1 + Contrast * (2 * random.NextDouble() - 1));
        }

        var shape = new long[] { count, 1, 1, 1 };
        var result = images;
        if (Brightness > 0)
            result = result.mul(tensor(brightness, shape, device: images.device)).clamp_(0, MaxValue);
        if (Contrast > 0)
        {
            // torchvision blends with the mean of the grayscale image; the mean over all channels is that mean for
            // grayscale images and close to it for colour ones.
            var mean = result.mean(new long[] { 1, 2, 3 }, keepdim: true);
            var factor = tensor(contrast, shape, device: images.device);
            result = (result - mean).mul_(factor).add_(mean).clamp_(0, MaxValue);
        }

        return result;
    }
}
