using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using BatchEmbed;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Tests.Mnist;
using MetricLearning.Tests.TestSupport;
using Xunit;

namespace MetricLearning.Tests.Samples;

public sealed class BatchEmbedTests
{
    /// <summary>Reads a .npy file here, independently of the writer: header dictionary, then little-endian values.</summary>
    private static (string Descriptor, long[] Shape, byte[] Data) ReadNpy(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Encoding.ASCII.GetString(bytes, 1, 5).Should().Be("NUMPY");
        int headerLength = bytes[8] | bytes[9] << 8;
        ((10 + headerLength) % 64).Should().Be(0, "the header is padded to 64 bytes");
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        string descriptor = Regex.Match(header, "'descr': '([^']+)'").Groups[1].Value;
        long[] shape = Regex.Match(header, @"'shape': \(([^)]*)\)").Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        return (descriptor, shape, bytes[(10 + headerLength)..]);
    }

    [Fact]
    public void Two_shards_together_hold_what_one_shard_holds_and_the_model_embeds()
    {
        using var folder = new TempFolder();
        var random = new Random(3);
        const int Count = 250, Side = 4;
        var pixels = Enumerable.Range(0, Count * Side * Side).Select(_ => (byte)random.Next(256)).ToArray();
        var labelBytes = Enumerable.Range(0, Count).Select(i => (byte)(i % 10)).ToArray();
        File.WriteAllBytes(folder.File("images.idx"), IdxFiles.Build(0x08, new[] { Count, Side, Side }, pixels));
        File.WriteAllBytes(folder.File("labels.idx.gz"), IdxFiles.Gzip(IdxFiles.Labels(labelBytes)));
        using (var network = new MlpEmbeddingNetwork(new MlpOptions { InputSize = Side * Side, LayerSizes = new[] { 12, 5 } }))
            new TrainedModel(network, new CosineSimilarity(), 0.5, new InputScaling(1f / 255f), new long[] { Side * Side }).Save(folder.File("model"));
        EmbedResult Run(int shard, int shards, string output) => ShardEmbedder.Run(
            new EmbedRequest(folder.File("model"), folder.File("images.idx"), folder.File("labels.idx.gz"), folder.File(output), shard, shards, BatchSize: 32, Overwrite: false));

        var one = Run(0, 1, "one");
        var first = Run(0, 2, "two");
        var second = Run(1, 2, "two");

        one.Count.Should().Be(Count);
        first.FirstKey.Should().Be(0);
        first.Count.Should().Be(128, "shards are cut at whole batches: 4 of the 8 batches of 32");
        second.FirstKey.Should().Be(128);
        (first.Count + second.Count).Should().Be(Count);
        foreach (string name in new[] { "embeddings", "keys", "labels" })
        {
            var whole = ReadNpy(Path.Combine(one.Folder, name + ".npy"));
            var parts = new[] { first, second }.Select(part => ReadNpy(Path.Combine(part.Folder, name + ".npy"))).ToArray();
            parts.Select(p => p.Descriptor).Should().AllBe(whole.Descriptor);
            parts.Sum(p => p.Shape[0]).Should().Be(whole.Shape[0]);
            var union = parts.SelectMany(p => p.Data).ToArray();
            if (name == "embeddings")
            {
                var a = MemoryMarshal(union);
                var b = MemoryMarshal(whole.Data);
                a.Zip(b, (x, y) => Math.Abs(x - y)).Max().Should().BeLessThan(1e-6f);
            }
            else
            {
                union.Should().Equal(whole.Data);
            }
        }

        var keys = ReadNpy(Path.Combine(one.Folder, "keys.npy"));
        keys.Descriptor.Should().Be("<i8");
        Enumerable.Range(0, Count).Select(i => BitConverter.ToInt64(keys.Data, 8 * i)).Should().Equal(Enumerable.Range(0, Count).Select(i => (long)i));
        var labels = ReadNpy(Path.Combine(one.Folder, "labels.npy"));
        labels.Descriptor.Should().Be("<i4");
        Enumerable.Range(0, Count).Select(i => BitConverter.ToInt32(labels.Data, 4 * i)).Should().Equal(labelBytes.Select(b => (int)b));
        var vectors = ReadNpy(Path.Combine(one.Folder, "embeddings.npy"));
        vectors.Shape.Should().Equal(Count, 5);
        using var model = TrainedModel.Load(folder.File("model"));
        var expected = model.Embed(Enumerable.Range(0, 3).Select(i => pixels.Skip(i * 16).Take(16).Select(p => (float)p).ToArray()).ToArray());
        MemoryMarshal(vectors.Data).Take(15).Should().Equal(expected.SelectMany(v => v), (x, y) => Math.Abs(x - y) < 1e-5f, "the saved model's preprocessing is applied to raw pixels");
        File.ReadAllText(Path.Combine(one.Folder, "manifest.json")).Should().Contain("\"count\": 250");

        var again = () => Run(0, 1, "one");
        again.Should().Throw<IOException>().WithMessage("*shard-00000-of-00001*exists*--overwrite*");
        var badShard = () => Run(2, 2, "x");
        badShard.Should().Throw<ArgumentException>().WithMessage("*Shard 2/2 does not exist*");
        Directory.GetDirectories(folder.File("two")).Select(Path.GetFileName).Should().BeEquivalentTo(new[] { "shard-00000-of-00002", "shard-00001-of-00002" }, "no temporary folders are left");
    }

    [Fact]
    public void Images_of_another_size_than_the_model_takes_are_refused_naming_both()
    {
        using var folder = new TempFolder();
        File.WriteAllBytes(folder.File("images.idx"), IdxFiles.Images(3, side: 5));
        using (var network = new MlpEmbeddingNetwork(new MlpOptions { InputSize = 16, LayerSizes = new[] { 4 } }))
            new TrainedModel(network, new CosineSimilarity(), 0.5, new InputScaling(1f / 255f), new long[] { 16 }).Save(folder.File("model"));

        var act = () => ShardEmbedder.Run(new EmbedRequest(folder.File("model"), folder.File("images.idx"), null, folder.File("out"), 0, 1, 8, false));

        act.Should().Throw<ArgumentException>().WithMessage("*images.idx' holds images of 5x5 = 25 pixels*takes 16 values*");
        Directory.Exists(folder.File("out")).Should().BeFalse();
    }

    private static float[] MemoryMarshal(byte[] bytes) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
}
