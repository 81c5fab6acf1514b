using System;
using System.IO;
using System.Linq;
using FluentAssertions;
using MetricLearning.Mnist;
using MetricLearning.Mnist.Idx;
using MetricLearning.Tests.TestSupport;
using Xunit;

namespace MetricLearning.Tests.Mnist;

public sealed class IdxReaderTests
{
    [Fact]
    public void A_valid_file_is_read_with_its_dimensions_and_data()
    {
        using var folder = new TempFolder();
        string path = folder.File("images");
        var data = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)i).ToArray();
        File.WriteAllBytes(path, IdxFiles.Build(0x08, new[] { 2, 3, 4 }, data));

        var array = IdxReader.Read(path, expectedRank: 3);

        array.Dimensions.Should().Equal(2, 3, 4);
        array.Data.Should().Equal(data);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_tiny_file_whose_header_claims_two_gigabytes_is_refused_without_allocating_them(bool gzip)
    {
        using var folder = new TempFolder();
        string path = folder.File("liar");
        // 20 bytes: a header for 50,000 × 200 × 200 values (2 GB) and no values.
        var content = IdxFiles.Build(0x08, new[] { 50_000, 200, 200 }, new byte[4]);
        File.WriteAllBytes(path, gzip ? IdxFiles.Gzip(content) : content);
        long before = GC.GetAllocatedBytesForCurrentThread();

        var act = () => IdxReader.Read(path);

        act.Should().Throw<IdxFormatException>().WithMessage("*truncated*promises 2000000000 values*4 bytes*");
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(4 << 20, "the reader believes the file, not the header");
    }

    [Fact]
    public void A_gzip_file_reads_the_same_as_the_plain_one()
    {
        using var folder = new TempFolder();
        var content = IdxFiles.Labels(3, 1, 4, 1, 5);
        File.WriteAllBytes(folder.File("labels"), content);
        File.WriteAllBytes(folder.File("labels.gz"), IdxFiles.Gzip(content));

        IdxReader.Read(folder.File("labels.gz")).Data.Should().Equal(IdxReader.Read(folder.File("labels")).Data);
    }

    public static TheoryData<string, byte[], string> Malformed => new()
    {
        { "empty", Array.Empty<byte>(), "*0 bytes*magic number*" },
        { "bad magic", new byte[] { 0x1f, 0x00, 0x08, 0x01, 0, 0, 0, 1, 5 }, "*bad magic number 0x1F000801*" },
        { "float type", IdxFiles.Build(0x0D, new[] { 1 }, new byte[4]), "*data type 0x0D*" },
        { "rank 0", new byte[] { 0, 0, 0x08, 0 }, "*rank 0*" },
        { "truncated header", new byte[] { 0, 0, 0x08, 3, 0, 0, 0, 2 }, "*truncated header*" },
        { "zero dimension", IdxFiles.Build(0x08, new[] { 0, 28, 28 }, Array.Empty<byte>()), "*dimension 0 has size 0*" },
        { "truncated data", IdxFiles.Images(2)[..^10], "*truncated*promises 1568 values*1558 bytes*" },
        { "trailing bytes", IdxFiles.Images(1).Concat(new byte[] { 1, 2, 3 }).ToArray(), "*3 unexpected bytes*" },
        { "corrupt gzip", new byte[] { 0x1f, 0x8b, 0x08, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, "*gzip*" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_files_are_refused_naming_the_file_and_the_problem(string name, byte[] content, string expected)
    {
        using var folder = new TempFolder();
        string path = folder.File(name.Replace(' ', '-'));
        File.WriteAllBytes(path, content);

        var act = () => IdxReader.Read(path);

        act.Should().Throw<IdxFormatException>().WithMessage($"*{path}*").WithMessage(expected)
            .Which.FilePath.Should().Be(path);
    }

    [Fact]
    public void A_file_of_another_rank_than_expected_is_refused()
    {
        using var folder = new TempFolder();
        File.WriteAllBytes(folder.File("labels"), IdxFiles.Labels(1, 2));

        var act = () => IdxReader.Read(folder.File("labels"), expectedRank: 3);

        act.Should().Throw<IdxFormatException>().WithMessage("*rank 1*0x00000801*rank 3 was expected*");
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var act = () => IdxReader.Read("/no/such/file-idx3-ubyte");

        act.Should().Throw<FileNotFoundException>().WithMessage("*/no/such/file-idx3-ubyte*");
    }

    [Fact]
    public void A_split_of_any_image_size_and_number_of_classes_loads_as_it_is()
    {
        // Not MNIST: 3 images of 5 x 7 pixels in classes 0, 11 and 200.
        using var folder = new TempFolder();
        var pixels = Enumerable.Range(0, 3 * 5 * 7).Select(i => (byte)i).ToArray();
        File.WriteAllBytes(folder.File("images"), IdxFiles.Build(0x08, new[] { 3, 5, 7 }, pixels));
        File.WriteAllBytes(folder.File("labels"), IdxFiles.Labels(0, 11, 200));

        var split = MnistSplit.Load(folder.File("images"), folder.File("labels"));

        (split.Count, split.ImageHeight, split.ImageWidth, split.InputSize, split.Classes).Should().Be((3, 5, 7, 35, 201));
        split.Labels.Should().Equal(0, 11, 200);
        split.Pixels.ToArray().Should().Equal(pixels);
        using var inputs = split.ToInputSet();
        inputs.InputShape.Should().Equal(35);
        split.Take(2).Pixels.Length.Should().Be(70);
    }

    [Fact]
    public void A_split_whose_label_count_differs_from_its_image_count_is_refused()
    {
        using var folder = new TempFolder();
        File.WriteAllBytes(folder.File("images"), IdxFiles.Images(4));
        File.WriteAllBytes(folder.File("labels"), IdxFiles.Labels(1, 2, 3));

        var act = () => MnistSplit.Load(folder.File("images"), folder.File("labels"));

        act.Should().Throw<IdxFormatException>().WithMessage("*3 labels*4 images*");
    }
}
