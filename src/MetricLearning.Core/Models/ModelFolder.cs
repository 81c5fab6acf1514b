using System;
using System.IO;
using System.Security.Cryptography;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Models;

/// <summary>
/// A <see cref="TrainedModel"/>'s folder: <c>weights.bin</c> (TorchSharp's format) and <c>model.json</c> (a
/// <see cref="ModelDescription"/>). The storage half of the model; <see cref="TrainedModel"/> is the inference half.
/// </summary>
internal static class ModelFolder
{
    private const string WeightsFile = "weights.bin";
    private const string DescriptionFile = "model.json";

    /// <summary>Writes the weights, then the description, each atomically; the description records the weights' SHA-256.</summary>
    /// <remarks>The caller holds the model's lock.</remarks>
    internal static void Save(TrainedModel model, string folder)
    {
        string weights = Path.Combine(folder, WeightsFile);
        string hash = "";
        // Described before anything is written, so that a part that cannot be described leaves the folder as it was.
        SavedPart network, distance, preprocessing;
        try
        {
            network = PartCatalogue.Describe(model.Network);
            distance = PartCatalogue.Describe(model.Distance);
            preprocessing = PartCatalogue.Describe(model.Preprocessing);
        }
        catch (Exception ex) when (ex is NotSupportedException or JsonException)
        {
            throw new InvalidOperationException($"A part of the model cannot be saved: its settings are not serialisable ({ex.Message}).", ex);
        }
        // Hashed before the rename: the description vouches for exactly the bytes this call wrote.
        AtomicFile.Write(weights, temporary =>
        {
            model.Network.Module.save(temporary);
            hash = Sha256(temporary);
        });
        var description = new ModelDescription(
            ModelDescription.FormatName, LibraryVersion, network, distance, preprocessing,
            model.InputShape is null ? null : [.. model.InputShape], model.ClassNames is null ? null : [.. model.ClassNames], model.Threshold, hash);
        AtomicFile.Write(Path.Combine(folder, DescriptionFile),
            temporary => File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(description, SavedJson.Options)));
    }

    /// <summary>Reads a folder written by <see cref="Save"/> (or by a version that wrote <c>metriclearning-model/2</c>).</summary>
    internal static TrainedModel Load(string folder, ModelComponents? components, Device? device)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        string path = Path.Combine(folder, DescriptionFile);
        string weights = Path.Combine(folder, WeightsFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"No model description at '{path}'.", path);
        if (!File.Exists(weights))
            throw new FileNotFoundException($"No model weights at '{weights}'.", weights);

        var description = ReadDescription(path);
        if (!string.Equals(Sha256(weights), description.WeightsSha256, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"'{weights}' is not the weights file '{path}' was saved with (SHA-256 differs).");

        var distance = PartCatalogue.Create<IDistance>(description.Distance, "distance", components, new PartLoadContext(path));
        var preprocessing = PartCatalogue.Create<IInputPreprocessing>(description.Preprocessing, "preprocessing", components, new PartLoadContext(path));
        var network = PartCatalogue.Create<IEmbeddingNetwork>(description.Network, "network", components, new PartLoadContext(path, new FileInfo(weights).Length));
        try
        {
            try
            {
                new SiameseNetwork(network, distance).LoadWeights(weights);
            }
            catch (InvalidDataException ex)
            {
                throw new InvalidDataException($"The network '{path}' describes does not fit its weights: {ex.Message}", ex);
            }

            if (device is not null)
                network.Module.to(device);
            network.Module.eval();
            return new TrainedModel(network, distance, description.Threshold, preprocessing, description.InputShape, description.ClassNames);
        }
        catch (Exception ex)
        {
            TrainedModel.DisposeNetwork(network);
            if (ex is ArgumentException)
                throw new InvalidDataException($"'{path}' describes an invalid model: {ex.Message}", ex);
            throw;
        }
    }

    /// <summary>The description in <paramref name="path"/>, of this format or the one before.</summary>
    private static ModelDescription ReadDescription(string path)
    {
        try
        {
            byte[] bytes = File.ReadAllBytes(path);
            string? format;
            using (var document = JsonDocument.Parse(bytes))
            {
                format = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("Format", out var value) && value.ValueKind == JsonValueKind.String
                    ? value.GetString()
                    : null;
            }

            var description = format switch
            {
                ModelDescription.FormatName => JsonSerializer.Deserialize<ModelDescription>(bytes, SavedJson.Options),
                LegacyModelDescription.FormatName => JsonSerializer.Deserialize<LegacyModelDescription>(bytes, SavedJson.Options)?.ToCurrent(path),
                _ => throw new InvalidDataException(
                    $"'{path}' has format '{format}'; this version reads '{ModelDescription.FormatName}' and '{LegacyModelDescription.FormatName}'."),
            } ?? throw new InvalidDataException($"'{path}' is empty.");
            if (description.Network?.Type is null || description.Distance?.Type is null || description.Preprocessing?.Type is null || description.WeightsSha256 is null)
                throw new InvalidDataException($"'{path}' lacks its network, distance, preprocessing or weights hash.");
            return description;
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException($"'{path}' is not a model description: {ex.Message}", ex);
        }
    }

    private static string LibraryVersion => typeof(TrainedModel).Assembly.GetName().Version?.ToString() ?? "unknown";

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
