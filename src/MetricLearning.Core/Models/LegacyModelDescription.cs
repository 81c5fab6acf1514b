using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Text.Json.Nodes;
using MetricLearning.Networks;

namespace MetricLearning.Models;

/// <summary>
/// The description of format <c>metriclearning-model/2</c>, written before parts had formats of their own: each
/// built-in network's options in a field of its own. Read, never written; <see cref="ToCurrent"/> turns it into a
/// <see cref="ModelDescription"/>.
/// </summary>
/// <param name="Format">The file format, <c>metriclearning-model/2</c>.</param>
/// <param name="LibraryVersion">The MetricLearning version that wrote it.</param>
/// <param name="NetworkType"><c>MlpEmbeddingNetwork</c>, <c>ConvEmbeddingNetwork</c>, <c>ResNetEmbeddingNetwork</c>, or the full type name of a network of the user's own.</param>
/// <param name="Network">The configuration of an <see cref="MlpEmbeddingNetwork"/>; null for any other network.</param>
/// <param name="Distance">A library distance's name (for example <c>EuclideanDistance</c>) or a user distance's full type name.</param>
/// <param name="DistanceParameters">A library distance's settings, by name.</param>
/// <param name="Preprocessing"><c>InputScaling</c>, <c>ChannelNormalization</c>, or the full type name of a preprocessing of the user's own.</param>
/// <param name="PreprocessingParameters">The library preprocessing's settings, by name.</param>
/// <param name="InputShape">The shape of one raw input, when known.</param>
/// <param name="ClassNames">The name of each class number, when the model was trained on named classes.</param>
/// <param name="Threshold">The verification threshold.</param>
/// <param name="WeightsSha256">SHA-256 of the weights file, so that a description and weights from different saves are caught.</param>
/// <param name="Convolutional">The configuration of a <see cref="ConvEmbeddingNetwork"/>; null for any other network.</param>
/// <param name="ResNet">The configuration of a <c>ResNetEmbeddingNetwork</c> (MetricLearning.PyTorch), kept as JSON; null for any other network.</param>
internal sealed record LegacyModelDescription(
    string Format,
    string LibraryVersion,
    string NetworkType,
    MlpOptions? Network,
    string Distance,
    IReadOnlyDictionary<string, double>? DistanceParameters,
    string Preprocessing,
    IReadOnlyDictionary<string, double>? PreprocessingParameters,
    long[]? InputShape,
    string[]? ClassNames,
    double Threshold,
    string WeightsSha256,
    ConvOptions? Convolutional = null,
    JsonNode? ResNet = null)
{
    /// <summary>The format this record reads.</summary>
    internal const string FormatName = "metriclearning-model/2";

    /// <summary>The same model in today's description: each part by name, with its settings.</summary>
    /// <param name="source">The file it was read from, for messages.</param>
    /// <exception cref="InvalidDataException">A required field is missing.</exception>
    internal ModelDescription ToCurrent(string source)
    {
        if (NetworkType is null || Distance is null || Preprocessing is null || WeightsSha256 is null)
            throw new InvalidDataException($"'{source}' lacks its network type, distance, preprocessing or weights hash.");
        // Only the three built-in networks wrote options; a network of the user's own was saved by type name alone.
        object? networkSettings = NetworkType switch
        {
            "MlpEmbeddingNetwork" => Network ?? throw new InvalidDataException($"'{source}' has no network configuration."),
            "ConvEmbeddingNetwork" => Convolutional ?? throw new InvalidDataException($"'{source}' has no convolutional network configuration."),
            "ResNetEmbeddingNetwork" => (object?)ResNet?.DeepClone() ?? throw new InvalidDataException($"'{source}' has no ResNet configuration."),
            _ => null,
        };
        return new ModelDescription(
            ModelDescription.FormatName,
            LibraryVersion,
            new SavedPart(NetworkType, null, networkSettings is null ? null : JsonSerializer.SerializeToNode(networkSettings, SavedJson.Options)),
            new SavedPart(Distance, null, Numbers(DistanceParameters)),
            new SavedPart(Preprocessing, null, Numbers(PreprocessingParameters)),
            InputShape,
            ClassNames,
            Threshold,
            WeightsSha256);
    }

    private static JsonObject? Numbers(IReadOnlyDictionary<string, double>? values) =>
        values is null ? null : SavedJson.Node(values);
}
