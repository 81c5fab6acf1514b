using System.IO;
using Xunit;

namespace MetricLearning.SearchService.Tests;

/// <summary>A test that needs Debian's Chromium and ChromeDriver; skipped, saying so, where they are not installed (CI installs them and fails if it was skipped).</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public const string Chromium = "/usr/bin/chromium", ChromeDriver = "/usr/bin/chromedriver";

    public BrowserFactAttribute()
    {
        if (!File.Exists(Chromium) || !File.Exists(ChromeDriver))
            Skip = $"Browser test: needs {Chromium} and {ChromeDriver} (apt-get install chromium chromium-driver).";
    }
}
