using System;
using System.Collections.Generic;
using System.Linq;

namespace MetricLearning.Networks;

/// <summary>
/// The shape of a <see cref="ConvEmbeddingNetwork"/>. Defaults: three blocks of 32, 64 and 128 channels with batch
/// normalisation, a 128-wide embedding, one input channel (a small CNN for 28x28 grayscale images).
/// </summary>
public sealed class ConvOptions
{
    /// <summary>Channels of the input images (1 grayscale, 3 RGB). Default 1.</summary>
    public int InputChannels { get; set; } = 1;

    /// <summary>Output channels of each 3x3 convolution block, in order; at least one, each 1 to 4,096. Default 32, 64, 128.</summary>
    public IList<int> Channels { get; set; } = new List<int> { 32, 64, 128 };

    /// <summary>Batch normalisation after each convolution. Default true.</summary>
    public bool BatchNorm { get; set; } = true;

    /// <summary>
    /// Lay the input out in channels-last memory order (for one channel, a view of the same memory), so that every
    /// activation map is in that order (the same mathematics; the order libtorch's CPU pooling and oneDNN's
    /// convolutions run fastest in: <c>bench conv --channels-first</c> against the default measures the difference).
    /// Default true.
    /// </summary>
    public bool ChannelsLast { get; set; } = true;

    /// <summary>Width of the embedding (the linear layer after global average pooling); 1 to 65,536. Default 128.</summary>
    public int EmbeddingSize { get; set; } = 128;

    /// <summary>Checks every setting and names the first one that is wrong.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (InputChannels is < 1 or > 4096)
            throw new ArgumentOutOfRangeException(nameof(InputChannels), InputChannels, "ConvOptions.InputChannels must be between 1 and 4,096.");
        if (Channels is null || Channels.Count == 0 || Channels.Count > 64)
            throw new ArgumentException("ConvOptions.Channels must list between 1 and 64 block widths.", nameof(Channels));
        if (Channels.Any(width => width is < 1 or > 4096))
            throw new ArgumentOutOfRangeException(nameof(Channels), string.Join(", ", Channels), "ConvOptions.Channels must all be between 1 and 4,096.");
        if (EmbeddingSize is < 1 or > 65536)
            throw new ArgumentOutOfRangeException(nameof(EmbeddingSize), EmbeddingSize, "ConvOptions.EmbeddingSize must be between 1 and 65,536.");
    }

    /// <summary>A copy whose list of channels is independent of this one's.</summary>
    /// <returns>A new object with the same values.</returns>
    public ConvOptions Clone() => new()
    {
        InputChannels = InputChannels,
        Channels = Channels.ToList(),
        BatchNorm = BatchNorm,
        ChannelsLast = ChannelsLast,
        EmbeddingSize = EmbeddingSize,
    };

    /// <summary>How many parameters the network has (weights, biases, batch-norm scales and shifts; not running statistics).</summary>
    /// <returns>The count.</returns>
    public long ParameterCount()
    {
        long count = 0, inputs = InputChannels;
        foreach (int width in Channels)
        {
            count += inputs * width * 9 + width + (BatchNorm ? 2L * width : 0);
            inputs = width;
        }

        return count + inputs * EmbeddingSize + EmbeddingSize;
    }
}
