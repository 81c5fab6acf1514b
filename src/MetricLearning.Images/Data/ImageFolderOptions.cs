using System;

namespace MetricLearning.Data;

/// <summary>How <see cref="ImageFolder"/> reads a folder of class folders of images.</summary>
public sealed class ImageFolderOptions
{
    /// <summary>Height every image is brought to, in pixels; 1 to 4,096. Default 28.</summary>
    public int Height { get; set; } = 28;

    /// <summary>Width every image is brought to, in pixels; 1 to 4,096. Default 28.</summary>
    public int Width { get; set; } = 28;

    /// <summary>One channel (luminance) when true, the default; three (red, green, blue) when false.</summary>
    public bool Grayscale { get; set; } = true;

    /// <summary>
    /// False (the default): the first file that is not a readable image (in class, then file-name order) stops the
    /// load, named in the exception. True: such files are left out, each reported in <see cref="ImageFolder.Skipped"/>
    /// and to the logger.
    /// </summary>
    public bool SkipUnreadable { get; set; }

    /// <summary>Threads that decode images; 0 (the default) for every core, at most 1,024.</summary>
    public int Threads { get; set; }

    /// <summary>Checks every setting and names the first one that is wrong.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        if (Height is < 1 or > 4096)
            throw new ArgumentOutOfRangeException(nameof(Height), Height, "ImageFolderOptions.Height must be between 1 and 4,096 pixels.");
        if (Width is < 1 or > 4096)
            throw new ArgumentOutOfRangeException(nameof(Width), Width, "ImageFolderOptions.Width must be between 1 and 4,096 pixels.");
        if (Threads is < 0 or > 1024)
            throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "ImageFolderOptions.Threads must be between 0 (every core) and 1,024.");
    }

    /// <summary>A copy of these settings.</summary>
    /// <returns>A new object with the same values.</returns>
    public ImageFolderOptions Clone() => (ImageFolderOptions)MemberwiseClone();
}
