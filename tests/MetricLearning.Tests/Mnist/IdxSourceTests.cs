using System;
using System.IO;
using System.Linq;
using FluentAssertions;
using MetricLearning.Mnist.Idx;
using MetricLearning.Tests.TestSupport;
using Xunit;

namespace MetricLearning.Tests.Mnist;

public sealed class IdxSourceTests
{
    private static byte[] Pixels(int count, int side) => Enumerable.Range(0, count * side * side).Select(i => (byte)(i * 7 % 251)).ToArray();

    [Fact]
    public void Images_are_read_at_their_positions_as_images_or_flat_rows()
    {
        using var folder = new TempFolder();
        var pixels = Pixels(5, 3);
        File.WriteAllBytes(folder.File("images"), IdxFiles.Build(0x08, new[] { 5, 3, 3 }, pixels));
        File.WriteAllBytes(folder.File("labels.gz"), IdxFiles.Gzip(IdxFiles.Labels(4, 0, 2, 2, 1)));

        using var source = IdxSource.Open(folder.File("images"), folder.File("labels.gz"));
        using var flat = IdxSource.Open(folder.File("images"), folder.File("labels.gz"), asImages: false);
        using var read = source.Read(new[] { 3, 0, 3 });
        using var rows = flat.Read(new[] { 4 });

        source.Count.Should().Be(5);
        source.Labels.Should().Equal(4, 0, 2, 2, 1);
        read.shape.Should().Equal(3, 1, 3, 3);
        read.data<byte>().ToArray().Should().Equal(pixels[27..36].Concat(pixels[0..9]).Concat(pixels[27..36]));
        rows.shape.Should().Equal(1, 9);
        rows.data<byte>().ToArray().Should().Equal(pixels[36..45]);
        var outside = () => source.Read(new[] { 5 });
        outside.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void A_compressed_short_or_mismatched_images_file_is_refused_naming_it()
    {
        using var folder = new TempFolder();
        var images = IdxFiles.Build(0x08, new[] { 4, 2, 2 }, Pixels(4, 2));
        File.WriteAllBytes(folder.File("labels"), IdxFiles.Labels(1, 2, 3, 4));
        File.WriteAllBytes(folder.File("images.gz"), IdxFiles.Gzip(images));
        File.WriteAllBytes(folder.File("short"), images[..^3]);
        File.WriteAllBytes(folder.File("three"), IdxFiles.Build(0x08, new[] { 3, 2, 2 }, Pixels(3, 2)));

        var compressed = () => IdxSource.Open(folder.File("images.gz"), folder.File("labels"));
        compressed.Should().Throw<IdxFormatException>().WithMessage($"*{folder.File("images.gz")}*gzip-compressed*gunzip it first*");
        var shortFile = () => IdxSource.Open(folder.File("short"), folder.File("labels"));
        shortFile.Should().Throw<IdxFormatException>().WithMessage($"*{folder.File("short")}*");
        var mismatched = () => IdxSource.Open(folder.File("three"), folder.File("labels"));
        mismatched.Should().Throw<IdxFormatException>().WithMessage("*3 images*4 labels*");
    }
}
