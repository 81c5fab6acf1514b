using System;
using System.IO;

namespace MetricLearning.Tests.TestSupport;

/// <summary>Where the repository is, found from the test assembly's folder (the nearest folder above with MetricLearning.sln).</summary>
internal static class Repository
{
    internal static string Root { get; } = Find();

    private static string Find()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "MetricLearning.sln")))
                return folder.FullName;
        }

        throw new InvalidOperationException($"No MetricLearning.sln above {AppContext.BaseDirectory}.");
    }
}
