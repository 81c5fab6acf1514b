using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using MetricLearning.Distances;
using MetricLearning.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Models;

/// <summary>
/// A trained model ready for use: an embedding network, its distance and a verification threshold, saved as a folder
/// holding <c>weights.bin</c> and a small <c>model.json</c> description.
/// </summary>
/// <remarks>
/// Saving writes the weights, then the description (each atomically: a temporary file, then a rename); the
/// description records the weights' SHA-256, so a folder whose two files do not belong together is refused on
/// load. Built-in distances are saved with their settings; a custom distance cannot be saved (it would not load).
/// An <see cref="MlpEmbeddingNetwork"/> is rebuilt from its saved configuration; a network of your own is saved by
/// type name and weights, and loads with <see cref="Load(string, Func{IEmbeddingNetwork}, Device?)"/>, given a
/// function that builds it untrained. The model owns its network; dispose it. Not thread-safe.
/// </remarks>
public sealed class TrainedModel : IDisposable
{
    /// <summary>The description format this version writes and reads.</summary>
    public const string Format = "metriclearning-model/1";
    private const string WeightsFile = "weights.bin";
    private const string DescriptionFile = "model.json";
    private const string MlpType = nameof(MlpEmbeddingNetwork);
    // Enums by name ("Relu"), so the file reads well and survives reordered enums; numbers still read.
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Converters = { new JsonStringEnumConverter() } };

    /// <summary>Wraps a trained network; takes ownership of it.</summary>
    /// <param name="network">The embedding network.</param>
    /// <param name="distance">How embeddings are compared.</param>
    /// <param name="threshold">Pairs closer than this (more similar, for a similarity) are "same class".</param>
    public TrainedModel(IEmbeddingNetwork network, IDistance distance, double threshold)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(distance);
        if (!double.IsFinite(threshold))
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold must be finite.");
        Network = network;
        Distance = distance;
        Threshold = threshold;
    }

    /// <summary>The embedding network.</summary>
    public IEmbeddingNetwork Network { get; }

    /// <summary>How embeddings are compared.</summary>
    public IDistance Distance { get; }

    /// <summary>The verification threshold.</summary>
    public double Threshold { get; }

    /// <summary>Embeds inputs with dropout off.</summary>
    /// <param name="inputs">Float32 inputs <c>[N, ...]</c> on the network's device (MNIST: pixels scaled to [0, 1]).</param>
    public Tensor Embed(Tensor inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        using var noGrad = no_grad();
        Network.Module.eval();
        return Network.Module.call(inputs);
    }

    /// <summary>Whether each pair (row i of each batch) is predicted to be of the same class.</summary>
    /// <param name="first">Float32 inputs <c>[N, ...]</c>.</param>
    /// <param name="second">Float32 inputs of the same shape.</param>
    public bool[] Verify(Tensor first, Tensor second)
    {
        using var scope = NewDisposeScope();
        var scores = Distance.Compute(Embed(first), Embed(second));
        var same = Distance.IsSimilarity ? scores.gt(Threshold) : scores.lt(Threshold);
        return same.cpu().data<bool>().ToArray();
    }

    /// <summary>Saves the model into <paramref name="folder"/> (created if missing).</summary>
    /// <exception cref="NotSupportedException">The distance is not one of the library's.</exception>
    public void Save(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        if (!DistanceDescription.TryDescribe(Distance, out string name, out var parameters))
            throw new NotSupportedException(
                $"A model with a {Distance.GetType().Name} cannot be saved: only the library's distances can be restored on load.");
        string weights = Path.Combine(folder, WeightsFile);
        AtomicFile.Write(weights, temporary => Network.Module.save(temporary));
        var mlp = Network as MlpEmbeddingNetwork;
        var description = new ModelDescription(
            Format, LibraryVersion, mlp?.Options, name, parameters, Threshold, Sha256(weights), mlp is null ? TypeName(Network) : MlpType);
        AtomicFile.Write(Path.Combine(folder, DescriptionFile), temporary => File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(description, Json)));
    }

    /// <summary>Loads a model saved by <see cref="Save"/> with an <see cref="MlpEmbeddingNetwork"/>.</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="device">Where to put the weights; the CPU if null.</param>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">The description is of another format, names an unknown distance or a network of the user's own, does not match the weights, or the weights do not fit the network.</exception>
    public static TrainedModel Load(string folder, Device? device = null) => Read(folder, null, device);

    /// <summary>Loads a model saved by <see cref="Save"/> with a network of your own.</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="createNetwork">Builds the network, untrained, with the architecture it was saved with; the saved weights are loaded into it.</param>
    /// <param name="device">Where to put the weights; the CPU if null.</param>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">The description is of another format, names an unknown distance or another network type, does not match the weights, or the weights do not fit the network built.</exception>
    public static TrainedModel Load(string folder, Func<IEmbeddingNetwork> createNetwork, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(createNetwork);
        return Read(folder, createNetwork, device);
    }

    private static TrainedModel Read(string folder, Func<IEmbeddingNetwork>? createNetwork, Device? device)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        string path = Path.Combine(folder, DescriptionFile);
        string weights = Path.Combine(folder, WeightsFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"No model description at '{path}'.", path);
        if (!File.Exists(weights))
            throw new FileNotFoundException($"No model weights at '{weights}'.", weights);

        ModelDescription description;
        try
        {
            description = JsonSerializer.Deserialize<ModelDescription>(File.ReadAllBytes(path), Json)
                ?? throw new InvalidDataException($"'{path}' is empty.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"'{path}' is not a model description: {ex.Message}", ex);
        }

        if (description.Format != Format)
            throw new InvalidDataException($"'{path}' has format '{description.Format}'; this version reads '{Format}'.");
        if (!string.Equals(Sha256(weights), description.WeightsSha256, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"'{weights}' is not the weights file '{path}' was saved with (SHA-256 differs).");

        var distance = DistanceDescription.Create(description.Distance, description.DistanceParameters ?? new Dictionary<string, double>(), path);
        var network = createNetwork is null ? CreateMlp(description, path) : CreateOwn(description, createNetwork, path);
        try
        {
            new SiameseNetwork(network, distance).LoadWeights(weights);
        }
        catch (InvalidDataException)
        {
            DisposeNetwork(network);
            throw;
        }

        if (device is not null)
            network.Module.to(device);
        network.Module.eval();
        return new TrainedModel(network, distance, description.Threshold);
    }

    private static MlpEmbeddingNetwork CreateMlp(ModelDescription description, string path)
    {
        string type = description.NetworkType ?? MlpType;
        if (type != MlpType)
            throw new InvalidDataException(
                $"'{path}' holds a network of type {type}, which the library cannot rebuild; load it with TrainedModel.Load(folder, createNetwork).");
        if (description.Network is null)
            throw new InvalidDataException($"'{path}' has no network configuration.");
        try
        {
            return new MlpEmbeddingNetwork(description.Network);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"'{path}' describes an invalid network: {ex.Message}", ex);
        }
    }

    private static IEmbeddingNetwork CreateOwn(ModelDescription description, Func<IEmbeddingNetwork> createNetwork, string path)
    {
        var network = createNetwork() ?? throw new InvalidOperationException("createNetwork returned null.");
        string saved = description.NetworkType ?? MlpType;
        if (TypeName(network) != saved)
        {
            DisposeNetwork(network);
            throw new InvalidDataException($"'{path}' holds a network of type {saved}, but createNetwork built a {TypeName(network)}.");
        }

        return network;
    }

    private static string TypeName(IEmbeddingNetwork network)
        => network is MlpEmbeddingNetwork ? MlpType : network.GetType().FullName ?? network.GetType().Name;

    private static void DisposeNetwork(IEmbeddingNetwork network)
    {
        if (network is IDisposable disposable)
            disposable.Dispose();
        else
            network.Module.Dispose();
    }

    /// <inheritdoc />
    public void Dispose() => DisposeNetwork(Network);

    private static string LibraryVersion => typeof(TrainedModel).Assembly.GetName().Version?.ToString() ?? "unknown";

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
