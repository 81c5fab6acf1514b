using System;
using System.IO;
using System.Linq;
using FluentAssertions;
using MetricLearning.Mnist.Idx;
using MetricLearning.Tests.TestSupport;
using Xunit;

namespace MetricLearning.Tests.Mnist;

public sealed class IdxRecordReaderTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Records_come_back_in_order_across_skips_and_partial_reads(bool gzip)
    {
        using var folder = new TempFolder();
        string path = folder.File("images.idx");
        var data = Enumerable.Range(0, 7 * 2 * 3).Select(i => (byte)i).ToArray();
        var content = IdxFiles.Build(0x08, new[] { 7, 2, 3 }, data);
        File.WriteAllBytes(path, gzip ? IdxFiles.Gzip(content) : content);

        using var reader = IdxRecordReader.Open(path, expectedRank: 3);
        reader.Count.Should().Be(7);
        reader.RecordShape.Should().Equal(2, 3);
        reader.RecordSize.Should().Be(6);
        reader.Skip(2);
        var buffer = new byte[6 * 4];
        reader.Read(buffer).Should().Be(4);
        buffer.Should().Equal(data.Skip(12).Take(24));
        reader.Read(buffer).Should().Be(1, "only one record remains");
        buffer.Take(6).Should().Equal(data.Skip(36).Take(6));
        reader.Read(buffer).Should().Be(0);
        reader.Position.Should().Be(7);
    }

    [Fact]
    public void A_short_file_or_trailing_bytes_are_refused_naming_the_file()
    {
        using var folder = new TempFolder();
        string path = folder.File("bad.idx");
        File.WriteAllBytes(path, IdxFiles.Build(0x08, new[] { 5, 2, 2 }, new byte[4 * 4]));
        using (var reader = IdxRecordReader.Open(path))
        {
            var act = () => reader.Read(new byte[20]);
            act.Should().Throw<IdxFormatException>().WithMessage($"*'{path}'*truncated*5 records*");
        }

        File.WriteAllBytes(path, IdxFiles.Build(0x08, new[] { 2, 2, 2 }, new byte[9]));
        using (var reader = IdxRecordReader.Open(path))
        {
            var act = () => reader.Read(new byte[8]);
            act.Should().Throw<IdxFormatException>().WithMessage($"*'{path}'*unexpected bytes follow the 2 records*");
        }

        var wrongRank = () => IdxRecordReader.Open(path, expectedRank: 1);
        wrongRank.Should().Throw<IdxFormatException>().WithMessage("*rank 3*rank 1 was expected*");
    }
}
