using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Losses;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using MetricLearning.Training;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Data;

public sealed class ImageAugmentationTests
{
    private static Tensor Images(int count, int seed)
    {
        manual_seed(seed);
        return randint(0, 256, new long[] { count, 2, 6, 8 }).to_type(ScalarType.Float32);
    }

    private static double MaxDifference(Tensor a, Tensor b)
    {
        using var difference = (a - b).abs().max();
        return difference.item<float>();
    }

    [Fact]
    public void With_every_setting_off_images_are_left_exactly_as_they_are()
    {
        using var images = Images(5, 1);
        using var augmented = new ImageAugmentation().Apply(images, new Random(1));
        Tensors.Identical(augmented, images).Should().BeTrue();
    }

    [Fact]
    public void A_flip_mirrors_about_half_of_the_images_each_exactly_and_the_rest_not_at_all()
    {
        using var images = Images(64, 2);
        using var mirrored = images.flip(3);
        using var augmented = new ImageAugmentation(horizontalFlip: true).Apply(images, new Random(2));

        int flipped = 0;
        for (int i = 0; i < 64; i++)
        {
            double same = MaxDifference(augmented[i], images[i]);
            double mirror = MaxDifference(augmented[i], mirrored[i]);
            Math.Min(same, mirror).Should().BeLessThan(1e-3, $"image {i} is either itself or its mirror");
            if (mirror < same)
                flipped++;
        }

        flipped.Should().BeInRange(20, 44, "each image is flipped with probability one half");
    }

    [Fact]
    public void The_same_seed_gives_the_same_batch_and_another_seed_another()
    {
        var augmentation = new ImageAugmentation(minCropArea: 0.5, horizontalFlip: true, rotationDegrees: 15, brightness: 0.3, contrast: 0.3);
        using var images = Images(8, 3);

        using var first = augmentation.Apply(images, new Random(7));
        using var again = augmentation.Apply(images, new Random(7));
        using var other = augmentation.Apply(images, new Random(8));

        Tensors.Identical(first, again).Should().BeTrue();
        MaxDifference(first, other).Should().BeGreaterThan(1);
        first.shape.Should().Equal(images.shape);
        using var low = first.min();
        using var high = first.max();
        low.item<float>().Should().BeGreaterThanOrEqualTo(0);
        high.item<float>().Should().BeLessThanOrEqualTo(255);
    }

    [Fact]
    public void A_crop_stays_inside_the_image_and_a_rotation_turns_it()
    {
        // A uniform image cropped anywhere inside itself stays uniform; turned, its corners come from outside (0).
        using var uniform = full(new long[] { 16, 1, 9, 9 }, 100f);
        using var cropped = new ImageAugmentation(minCropArea: 0.3).Apply(uniform, new Random(4));
        MaxDifference(cropped, uniform).Should().BeLessThan(1e-3);

        using var turned = new ImageAugmentation(rotationDegrees: 45).Apply(uniform, new Random(4));
        using var corners = turned.index_select(2, tensor(new long[] { 0, 8 })).index_select(3, tensor(new long[] { 0, 8 }));
        using var centres = turned.index_select(2, tensor(new long[] { 4 })).index_select(3, tensor(new long[] { 4 }));
        using var darkest = corners.min();
        darkest.item<float>().Should().BeLessThan(50, "a turned image's corners leave the source");
        MaxDifference(centres, full(new long[] { 16, 1, 1, 1 }, 100f)).Should().BeLessThan(1e-3, "the centre stays where it was");
    }

    /// <summary>A generator that always draws the same number, to force a known transform.</summary>
    private sealed class FixedRandom(double value) : Random
    {
        public override double NextDouble() => value;
    }

    [Fact]
    public void A_full_turn_of_ninety_degrees_and_a_known_crop_of_a_wide_image_move_pixels_where_they_belong()
    {
        // Drawing 1 turns by +90 degrees (angle = (2 * 1 - 1) * 90): every pixel must land where torch's rot90 puts
        // it, one way or the other, computed independently of the affine map.
        using var square = Images(2, 7).narrow(3, 0, 6);
        using var turned = new ImageAugmentation(rotationDegrees: 90).Apply(square, new FixedRandom(1));
        using var left = square.rot90(1, (2, 3));
        using var right = square.rot90(-1, (2, 3));
        Math.Min(MaxDifference(turned, left), MaxDifference(turned, right)).Should().BeLessThan(1e-3);

        // On a 4x8 image, drawing 0 for everything: area = minCropArea = 0.25, aspect ratio 3/4 of the side
        // fractions, so the crop is sqrt(0.25 * 0.75) = 0.433 of the width and sqrt(0.25 / 0.75) = 0.577 of the
        // height, centred at (-(1 - 0.433), -(1 - 0.577)): the top-left corner. Its first pixel is the image's first.
        using var wide = arange(32, dtype: ScalarType.Float32).reshape(1, 1, 4, 8);
        using var cropped = new ImageAugmentation(minCropArea: 0.25).Apply(wide, new FixedRandom(0));
        cropped[0, 0, 0, 0].item<float>().Should().BeApproximately(0f, 1e-4f, "the crop starts at the top-left corner");
        // The last output column samples x = -1 + 2 * 0.433 in corner-aligned coordinates, that is pixel 0.433 * 7.
        cropped[0, 0, 0, 7].item<float>().Should().BeApproximately((float)(Math.Sqrt(0.25 * 0.75) * 7), 1e-3f);
        // The last output row samples y = pixel 0.577 * 3, so it reads 8 * 1.732 more than the first row.
        cropped[0, 0, 3, 0].item<float>().Should().BeApproximately((float)(8 * Math.Sqrt(0.25 / 0.75) * 3), 1e-3f);
    }

    [Fact]
    public void Brightness_scales_each_image_within_its_range_and_contrast_keeps_its_mean()
    {
        using var images = Images(32, 5).mul(0.5);  // values 0..127, so that a brightening is never clamped
        using var brighter = new ImageAugmentation(brightness: 0.4).Apply(images, new Random(5));
        using var ratio = brighter.sum(new long[] { 1, 2, 3 }) / images.sum(new long[] { 1, 2, 3 });
        Tensors.Values(ratio).Should().AllSatisfy(r => r.Should().BeInRange(0.6f - 1e-4f, 1.4f + 1e-4f));
        Tensors.Values(ratio).Distinct().Count().Should().BeGreaterThan(16, "each image draws its own factor");

        // Values 64..191.5 around a mean near 128: contrast 1.4 moves none of them out of 0..255, so nothing is clamped.
        using var middle = images.add(64);
        using var contrasted = new ImageAugmentation(contrast: 0.4).Apply(middle, new Random(5));
        MaxDifference(contrasted.mean(new long[] { 1, 2, 3 }), middle.mean(new long[] { 1, 2, 3 })).Should().BeLessThan(1e-2);
        MaxDifference(contrasted, middle).Should().BeGreaterThan(1);
    }

    [Fact]
    public void Out_of_range_settings_and_inputs_that_are_not_images_are_refused()
    {
        var crop = () => new ImageAugmentation(minCropArea: 0);
        crop.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("minCropArea");
        var turn = () => new ImageAugmentation(rotationDegrees: 200);
        turn.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("rotationDegrees");
        var flat = () => new ImageAugmentation(horizontalFlip: true).Apply(zeros(4, 784), new Random(1));
        flat.Should().Throw<ArgumentException>().WithMessage("*[N, C, H, W]*[4, 784]*");
    }

    /// <summary>Records the largest value of each batch the trainer hands it and the first number its generator gives, and mirrors the batch.</summary>
    private sealed class RecordingAugmentation : IAugmentation
    {
        public List<float> BatchMaxima { get; } = new();

        public List<double> FirstDraws { get; } = new();

        public Tensor Apply(Tensor inputs, Random random)
        {
            using var max = inputs.max();
            BatchMaxima.Add(max.item<float>());
            FirstDraws.Add(random.NextDouble());
            return inputs.flip(3);
        }
    }

    [Fact]
    public void The_trainer_augments_every_training_batch_in_raw_units_and_reproducibly()
    {
        var labels = Enumerable.Range(0, 32).Select(i => i % 4).ToArray();
        manual_seed(6);
        using var pixels = randint(0, 256, new long[] { 32, 1, 8, 8 }).to_type(ScalarType.Byte);
        var recording = new RecordingAugmentation();
        var options = new EmbeddingTrainerOptions { Epochs = 2, SamplesPerClass = 4, BatchSize = 16, Seed = 6, Augmentation = recording };

        float[] Train(EmbeddingTrainerOptions trainerOptions)
        {
            using var inputs = new InputSet(pixels.clone(), 1f / 255f);
            manual_seed(6);
            using var network = new ConvEmbeddingNetwork(new ConvOptions { Channels = new[] { 4 }, EmbeddingSize = 4 });
            new EmbeddingTrainer(new MultiSimilarityLoss(), trainerOptions).Fit(network, inputs, labels);
            return network.parameters().SelectMany(p => Tensors.Values(p)).ToArray();
        }

        var augmented = Train(options);
        recording.BatchMaxima.Should().HaveCount(4, "two epochs of two batches");
        recording.BatchMaxima.Should().OnlyContain(max => max > 1.5f, "the augmentation sees pixels in their stored units, before scaling");

        // The same seed draws the same numbers for every step (and different ones from step to step); another seed, others.
        var again = new RecordingAugmentation();
        var otherSeed = new RecordingAugmentation();
        Train(new EmbeddingTrainerOptions { Epochs = 2, SamplesPerClass = 4, BatchSize = 16, Seed = 6, Augmentation = again });
        Train(new EmbeddingTrainerOptions { Epochs = 2, SamplesPerClass = 4, BatchSize = 16, Seed = 7, Augmentation = otherSeed });
        again.FirstDraws.Should().Equal(recording.FirstDraws).And.OnlyHaveUniqueItems();
        otherSeed.FirstDraws.Should().NotIntersectWith(recording.FirstDraws);
        Train(new EmbeddingTrainerOptions { Epochs = 2, SamplesPerClass = 4, BatchSize = 16, Seed = 6 })
            .Should().NotEqual(augmented, "the augmentation changed what was learned");
    }
}
