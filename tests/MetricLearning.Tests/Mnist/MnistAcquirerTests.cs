using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using FluentAssertions;
using MetricLearning.Mnist;
using MetricLearning.Mnist.Acquisition;
using MetricLearning.Mnist.Idx;
using MetricLearning.Tests.TestSupport;
using Xunit;

namespace MetricLearning.Tests.Mnist;

public sealed class MnistAcquirerTests
{
    private static MnistAcquisitionOptions Offline(string cache, string? source = null) => new()
    {
        CacheFolder = cache,
        SourceFolder = source,
        Mirrors = Array.Empty<Uri>(),
        UseNpm = false,
    };

    [Fact]
    public async Task A_wrong_file_in_the_source_folder_is_refused_and_nothing_enters_the_cache()
    {
        using var source = new TempFolder();
        using var cache = new TempFolder();
        File.WriteAllBytes(source.File(MnistFile.TrainLabels.Name), IdxFiles.Labels(1, 2, 3));

        var act = () => new MnistAcquirer(Offline(cache.Path, source.Path)).EnsureAsync();

        (await act.Should().ThrowAsync<IdxFormatException>())
            .WithMessage($"*{MnistFile.TrainLabels.Name}*MD5*{MnistFile.TrainLabels.Md5}*");
        Directory.GetFileSystemEntries(cache.Path).Should().BeEmpty("a file that failed verification must not be cached, even partly");
    }

    [Fact]
    public async Task A_truncated_file_in_the_source_folder_is_reported_as_truncated()
    {
        using var source = new TempFolder();
        using var cache = new TempFolder();
        File.WriteAllBytes(source.File(MnistFile.TestLabels.Name), IdxFiles.Labels(1, 2, 3, 4)[..^2]);

        var act = () => new MnistAcquirer(Offline(cache.Path, source.Path)).EnsureAsync();

        (await act.Should().ThrowAsync<IdxFormatException>()).WithMessage("*truncated*promises 4 values*only 2 bytes*");
        Directory.GetFileSystemEntries(cache.Path).Should().BeEmpty();
    }

    [Fact]
    public async Task Without_any_source_the_error_lists_what_was_missing_and_the_cache_stays_empty()
    {
        using var cache = new TempFolder();

        var act = () => new MnistAcquirer(Offline(cache.Path)).EnsureAsync();

        (await act.Should().ThrowAsync<MnistUnavailableException>())
            .WithMessage("*train-images-idx3-ubyte*t10k-labels-idx1-ubyte*");
        Directory.GetFileSystemEntries(cache.Path).Should().BeEmpty();
    }

    [Fact]
    public async Task Unreachable_mirrors_are_reported_per_address()
    {
        using var cache = new TempFolder();
        var options = Offline(cache.Path);
        options.Mirrors = new[] { new Uri("http://127.0.0.1:9/mnist/") };

        var act = () => new MnistAcquirer(options).EnsureAsync();

        (await act.Should().ThrowAsync<MnistUnavailableException>()).WithMessage("*http://127.0.0.1:9/mnist/train-images-idx3-ubyte.gz*");
        Directory.GetFileSystemEntries(cache.Path).Should().BeEmpty();
    }

    [Fact]
    public async Task The_real_files_are_verified_and_a_corrupted_cache_file_is_replaced()
    {
        string shared = await MnistData.FolderAsync();
        using var cache = new TempFolder();
        foreach (var file in MnistFile.All)
            File.Copy(Path.Combine(shared, file.Name), cache.File(file.Name));
        File.WriteAllBytes(cache.File(MnistFile.TestLabels.Name), IdxFiles.Labels(0, 1));
        var options = Offline(cache.Path, shared);

        var logger = new RecordingLogger();
        string folder = await new MnistAcquirer(options, logger).EnsureAsync();

        folder.Should().Be(cache.Path);
        logger.Events.Select(e => (e.Id, e.Message)).Should().ContainSingle("only the corrupted file was replaced")
            .Which.Should().Be((MnistAcquirer.ActionEvent, $"MNIST: copied {MnistFile.TestLabels.Name} from {shared}"));
        var bytes = File.ReadAllBytes(cache.File(MnistFile.TestLabels.Name));
        MnistAcquirer.Md5(bytes).Should().Be(MnistFile.TestLabels.Md5);
        Directory.GetFiles(cache.Path).Select(Path.GetFileName).Should().BeEquivalentTo(MnistFile.All.Select(f => f.Name));
    }
}
