using System.IO;

namespace SearchService;

/// <summary>The one page, embedded in the assembly.</summary>
public static class Page
{
    /// <summary>The page's HTML (script and style inline).</summary>
    public static string Html { get; } = Read();

    private static string Read()
    {
        using var stream = typeof(Page).Assembly.GetManifestResourceStream("SearchService.index.html")
            ?? throw new InvalidDataException("The page is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
