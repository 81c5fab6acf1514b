using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Evaluation;
using MetricLearning.Losses;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using MetricLearning.Training;
using SkiaSharp;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Data;

public sealed class LabelledSourceTests
{
    /// <summary>Writes <paramref name="perClass"/> random 8x8 grayscale PNGs into each of four class folders.</summary>
    private static void WriteFolder(string root, int perClass, int seed)
    {
        var random = new Random(seed);
        for (int label = 0; label < 4; label++)
        {
            Directory.CreateDirectory(Path.Combine(root, $"class{label}"));
            for (int i = 0; i < perClass; i++)
            {
                using var bitmap = new SKBitmap(new SKImageInfo(8, 8, SKColorType.Gray8, SKAlphaType.Opaque));
                for (int y = 0; y < 8; y++)
                {
                    for (int x = 0; x < 8; x++)
                    {
                        // A bright row at the class's place, under noise: learnable, not trivial.
                        byte value = (byte)Math.Clamp((y == 2 * label ? 160 : 40) + random.Next(-40, 40), 0, 255);
                        bitmap.SetPixel(x, y, new SKColor(value, value, value));
                    }
                }

                using var image = SKImage.FromBitmap(bitmap);
                using var png = image.Encode(SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(Path.Combine(root, $"class{label}", $"{i:D3}.png"), png.ToArray());
            }
        }
    }

    private static readonly ImageFolderOptions Small = new() { Height = 8, Width = 8 };

    private static float[] Train(Func<ConvEmbeddingNetwork, IReadOnlyList<EmbeddingEpochReport>> fit)
    {
        manual_seed(9);
        using var network = new ConvEmbeddingNetwork(new ConvOptions { Channels = new[] { 4, 8 }, EmbeddingSize = 4 });
        fit(network);
        return network.parameters().SelectMany(p => Tensors.Values(p)).ToArray();
    }

    private static EmbeddingTrainer Trainer(IAugmentation? augmentation, int prefetchBatches = 2) =>
        new(new MultiSimilarityLoss(), new EmbeddingTrainerOptions { Epochs = 2, SamplesPerClass = 4, BatchSize = 16, Seed = 9, Augmentation = augmentation, PrefetchBatches = prefetchBatches });

    [Fact]
    public void A_streamed_image_folder_reads_the_pixels_the_in_memory_folder_holds_and_trains_to_the_same_weights()
    {
        using var folder = new TempFolder();
        WriteFolder(folder.Path, perClass: 12, seed: 1);
        var resident = ImageFolder.Load(folder.Path, Small);
        var streamed = ImageFolderSource.Open(folder.Path, Small);
        var kept = ImageFolderSource.Open(folder.Path, Small, keepInMemory: true);

        streamed.Labels.Should().Equal(resident.Labels);
        streamed.Files.Should().Equal(resident.Files);
        streamed.KeepsInMemory.Should().BeFalse();
        kept.KeepsInMemory.Should().BeTrue();
        int[] positions = { 47, 0, 13, 13 };
        using var read = streamed.Read(positions);
        using var readKept = kept.Read(positions);
        read.shape.Should().Equal(4, 1, 8, 8);
        var expected = positions.SelectMany(p => resident.Pixels.Slice(p * 64, 64).ToArray()).ToArray();
        read.data<byte>().ToArray().Should().Equal(expected);
        readKept.data<byte>().ToArray().Should().Equal(expected);

        using var inputs = resident.ToInputSet();
        var flipAndTurn = new ImageAugmentation(horizontalFlip: true, rotationDegrees: 10);
        // What each step's network saw, fingerprinted; trained weights are not compared, since training on two CPU
        // threads is not reproducible to the last bit from one run to the next, and ten steps amplify the last bit.
        var fromMemory = new Fingerprints(flipAndTurn);
        var fromFiles = new Fingerprints(flipAndTurn);
        var fromKept = new Fingerprints(flipAndTurn);
        var fromFilesOnTheTrainingThread = new Fingerprints(flipAndTurn);
        Train(network => Trainer(fromMemory).Fit(network, inputs, resident.Labels));
        Train(network => Trainer(fromFiles).Fit(network, streamed));
        Train(network => Trainer(fromKept).Fit(network, kept));
        Train(network => Trainer(fromFilesOnTheTrainingThread, prefetchBatches: 0).Fit(network, streamed));

        fromMemory.Seen.Should().HaveCount(6, "two epochs of three batches of 16");
        fromFiles.Seen.Should().Equal(fromMemory.Seen, "the same batches in the same order, read ahead instead of gathered, augmented alike");
        fromKept.Seen.Should().Equal(fromMemory.Seen);
        fromFilesOnTheTrainingThread.Seen.Should().Equal(fromMemory.Seen, "read when each step needs it (PrefetchBatches = 0), the batches are the same");
    }

    /// <summary>Augments as the inner augmentation does and records a fingerprint of each batch it returns.</summary>
    private sealed class Fingerprints(IAugmentation inner) : IAugmentation
    {
        public List<(double Sum, double Weighted)> Seen { get; } = new();

        public Tensor Apply(Tensor inputs, Random random)
        {
            var augmented = inner.Apply(inputs, random);
            using var sum = augmented.sum(ScalarType.Float64);
            using var weights = arange(augmented.numel(), dtype: ScalarType.Float64).reshape(augmented.shape);
            using var weighted = (augmented.to_type(ScalarType.Float64) * weights).sum();
            Seen.Add((sum.item<double>(), weighted.item<double>()));
            return augmented;
        }
    }

    [Fact]
    public void Embedding_a_source_gives_the_embeddings_of_the_same_inputs_in_memory()
    {
        manual_seed(10);
        using var pixels = randint(0, 256, new long[] { 37, 1, 8, 8 }).to_type(ScalarType.Byte);
        using var inputs = new InputSet(pixels.clone(), 1f / 255f);
        var source = new InMemorySource(inputs, Enumerable.Range(0, 37).Select(i => i % 3).ToArray());
        using var network = new ConvEmbeddingNetwork(new ConvOptions { Channels = new[] { 4 }, EmbeddingSize = 4 });

        using var expected = Embedder.EmbedAll(network, inputs);
        using var actual = Embedder.EmbedAll(network, source, batchSize: 8, prefetchBatches: 3);
        using var readInTurn = Embedder.EmbedAll(network, source, batchSize: 8, prefetchBatches: 0);

        actual.allclose(expected, rtol: 1e-5, atol: 1e-6).Should().BeTrue();
        readInTurn.allclose(expected, rtol: 1e-5, atol: 1e-6).Should().BeTrue();
        var outside = () => source.Read(new[] { 37 });
        outside.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Position 37 is outside the 37 inputs*");
    }

    [Fact]
    public void A_bad_file_stops_opening_naming_it_or_is_skipped_and_a_file_spoiled_after_opening_stops_training_naming_it()
    {
        using var folder = new TempFolder();
        WriteFolder(folder.Path, perClass: 8, seed: 2);
        string stray = Path.Combine(folder.Path, "class1", "notes.txt");
        File.WriteAllText(stray, "not an image");

        var open = () => ImageFolderSource.Open(folder.Path, Small);
        open.Should().Throw<InvalidDataException>().WithMessage($"*'{stray}' is not a readable image*");
        var skipping = ImageFolderSource.Open(folder.Path, new ImageFolderOptions { Height = 8, Width = 8, SkipUnreadable = true });
        skipping.Skipped.Should().ContainSingle().Which.Should().StartWith(stray);
        skipping.Count.Should().Be(32);

        File.WriteAllText(skipping.Files[5], "spoiled after opening");
        var train = () => Train(network => Trainer(null).Fit(network, skipping));
        train.Should().Throw<InvalidDataException>().WithMessage($"*'{skipping.Files[5]}' is no longer a readable image*");
    }
}
