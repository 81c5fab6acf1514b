using System.Collections.Generic;
using System.IO;
using MetricLearning.Data;
using MetricLearning.Distances;

namespace MetricLearning.Models;

/// <summary>
/// How models and indexes describe their distance and preprocessing in a file, and rebuild them: the library's own
/// by name and settings, a user's own by full type name through <see cref="ModelComponents"/>.
/// </summary>
internal static class SavedParts
{
    internal const string InputScalingName = nameof(InputScaling);
    internal const string ChannelNormalizationName = nameof(ChannelNormalization);

    internal static (string Name, Dictionary<string, double> Parameters) Describe(IDistance distance)
    {
        if (!DistanceDescription.TryDescribe(distance, out string name, out var parameters))
            name = ModelComponents.TypeName(distance.GetType());
        return (name, parameters);
    }

    internal static (string Name, Dictionary<string, double>? Parameters) Describe(IInputPreprocessing preprocessing) => preprocessing switch
    {
        InputScaling s when s.GetType() == typeof(InputScaling) => (InputScalingName,
            new Dictionary<string, double> { ["scale"] = s.Scale, ["mean"] = s.Mean, ["std"] = s.StandardDeviation }),
        ChannelNormalization n => (ChannelNormalizationName, DescribeChannels(n)),
        _ => (ModelComponents.TypeName(preprocessing.GetType()), null),
    };

    private static Dictionary<string, double> DescribeChannels(ChannelNormalization normalization)
    {
        var parameters = new Dictionary<string, double> { ["scale"] = normalization.Scale, ["channels"] = normalization.Channels };
        for (int c = 0; c < normalization.Channels; c++)
        {
            parameters[$"mean{c}"] = normalization.Mean[c];
            parameters[$"std{c}"] = normalization.StandardDeviation[c];
        }

        return parameters;
    }

    /// <exception cref="InvalidDataException">The distance is unknown and no factory builds it, or its settings are invalid.</exception>
    internal static IDistance CreateDistance(string name, IReadOnlyDictionary<string, double>? parameters, ModelComponents? components, string source)
        => DistanceDescription.IsLibraryName(name)
            ? DistanceDescription.Create(name, parameters ?? new Dictionary<string, double>(), source)
            : (components ?? new ModelComponents()).Create<IDistance>(name, "distance", source);

    /// <exception cref="InvalidDataException">The preprocessing is unknown and no factory builds it, or its settings are invalid.</exception>
    internal static IInputPreprocessing CreatePreprocessing(string name, IReadOnlyDictionary<string, double>? parameters, ModelComponents? components, string source)
    {
        if (name == ChannelNormalizationName)
            return CreateChannels(parameters, source);
        if (name != InputScalingName)
            return (components ?? new ModelComponents()).Create<IInputPreprocessing>(name, "preprocessing", source);
        double Get(string key) => parameters is not null && parameters.TryGetValue(key, out double value)
            ? value
            : throw new InvalidDataException($"'{source}': the input scaling lacks its '{key}' setting.");
        try
        {
            return new InputScaling((float)Get("scale"), (float)Get("mean"), (float)Get("std"));
        }
        catch (System.ArgumentException ex)
        {
            throw new InvalidDataException($"'{source}': invalid input scaling: {ex.Message}", ex);
        }
    }

    private static ChannelNormalization CreateChannels(IReadOnlyDictionary<string, double>? parameters, string source)
    {
        double Get(string key) => parameters is not null && parameters.TryGetValue(key, out double value)
            ? value
            : throw new InvalidDataException($"'{source}': the channel normalisation lacks its '{key}' setting.");
        double channels = Get("channels");
        if (channels is < 1 or > 4096 || channels != System.Math.Floor(channels))
            throw new InvalidDataException($"'{source}': the channel normalisation's channel count {channels} is not a whole number from 1 to 4,096.");
        var mean = new float[(int)channels];
        var deviation = new float[(int)channels];
        for (int c = 0; c < mean.Length; c++)
        {
            mean[c] = (float)Get($"mean{c}");
            deviation[c] = (float)Get($"std{c}");
        }

        try
        {
            return new ChannelNormalization((float)Get("scale"), mean, deviation);
        }
        catch (System.ArgumentException ex)
        {
            throw new InvalidDataException($"'{source}': invalid channel normalisation: {ex.Message}", ex);
        }
    }
}
