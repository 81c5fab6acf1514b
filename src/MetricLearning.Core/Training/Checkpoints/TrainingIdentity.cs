using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using MetricLearning.Data;
using static TorchSharp.torch;

namespace MetricLearning.Training;

/// <summary>
/// What a run is, as named values (settings, network, loss, data fingerprints), so that a checkpoint can be refused
/// when it was written by a different run, naming the first value that differs.
/// </summary>
internal sealed class TrainingIdentity
{
    private readonly SortedDictionary<string, string> _values = new(StringComparer.Ordinal);

    internal IReadOnlyDictionary<string, string> Values => _values;

    internal TrainingIdentity Add(string key, string value)
    {
        _values[key] = value;
        return this;
    }

    /// <summary>
    /// Every setting of an options object, by its path (for example <c>Optimizer.LearningRate</c>), except the
    /// checkpoint settings and those that cannot change the result (how far ahead batches are read). An augmentation
    /// is recorded by its type and settings (<see cref="AddComponent"/>), since as an interface it serialises empty.
    /// </summary>
    internal TrainingIdentity AddOptions(object options) => AddSettings("options", options, "Checkpoint", "PrefetchBatches", "Augmentation", "FusedStep");

    /// <summary>
    /// Which step the run takes, when it is the fused one: the two steps round differently, so a run is resumed only
    /// on the step it was written with. Nothing is recorded for the autograd step, so a checkpoint written before the
    /// fused step existed is accepted when its run takes the autograd step (<c>FusedStep = false</c>); the message of
    /// a refusal says which setting each side had.
    /// </summary>
    internal TrainingIdentity AddStep(bool fused)
    {
        if (fused)
            Add("step", "the fused step (FusedStep = true; the autograd step is FusedStep = false, or a run the fused step does not apply to)");
        return this;
    }

    /// <summary>Logs which step the run takes, and why not the fused one when it is not.</summary>
    internal static void LogStep(ILogger logger, string trainer, string? notFused)
    {
        if (notFused is null)
            TrainingLog.FusedStepChosen(logger, trainer, "the network's and the loss's hand-written passes, no autograd graph", null);
        else
            TrainingLog.AutogradStepChosen(logger, trainer, notFused, null);
    }

    /// <summary>The preprocessing of the training inputs: its type and what it says of itself.</summary>
    internal TrainingIdentity AddPreprocessing(string key, IInputPreprocessing preprocessing)
    {
        Add(key, $"{preprocessing.GetType().FullName}: {preprocessing}");
        return this;
    }

    /// <summary>The network's type and the name, dtype and shape of every tensor in its state.</summary>
    internal TrainingIdentity AddNetwork(IEmbeddingNetwork network)
    {
        Add("network", network.GetType().FullName ?? network.GetType().Name);
        Add("network.state", string.Join("; ", network.Module.state_dict().Select(entry => $"{entry.Key} {entry.Value.dtype} [{string.Join(", ", entry.Value.shape)}]")));
        return this;
    }

    /// <summary>
    /// A component's type and its settings: every public property of a simple type (numbers, text, flags, enums), and
    /// those of a settings object it exposes (such as an MLP's options), so that a loss with another margin or a
    /// network with another dropout rate is a different run.
    /// </summary>
    internal TrainingIdentity AddComponent(string key, object? component)
    {
        if (component is null)
        {
            Add(key, "none");
            return this;
        }

        Add(key, component.GetType().FullName ?? component.GetType().Name);
        void Walk(object value, string prefix, int depth)
        {
            foreach (var property in value.GetType().GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
            {
                if (property.GetIndexParameters().Length > 0 || !property.CanRead)
                    continue;
                var type = property.PropertyType;
                if (type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal))
                {
                    Add($"{prefix}.{property.Name}", Convert.ToString(property.GetValue(value), System.Globalization.CultureInfo.InvariantCulture) ?? "null");
                }
                else if (depth == 0 && type.Name.EndsWith("Options", StringComparison.Ordinal) && property.GetValue(value) is { } settings)
                {
                    AddSettings($"{prefix}.{property.Name}", settings);
                }
                else if (depth == 0 && property.GetValue(value) is IDistance distance)
                {
                    Add($"{prefix}.{property.Name}", distance.GetType().FullName ?? distance.GetType().Name);
                    Walk(distance, $"{prefix}.{property.Name}", depth + 1);
                }
            }
        }

        Walk(component, key, 0);
        return this;
    }

    /// <summary>Every value of a settings object as serialised to JSON, by its path under <paramref name="prefix"/>; top-level properties named in <paramref name="skip"/> are left out.</summary>
    private TrainingIdentity AddSettings(string prefix, object settings, params string[] skip)
    {
        void Walk(JsonNode? node, string path, bool top)
        {
            if (node is JsonObject obj)
            {
                foreach (var (name, child) in obj)
                {
                    if (!(top && Array.IndexOf(skip, name) >= 0))
                        Walk(child, $"{path}.{name}", top: false);
                }
            }
            else
            {
                Add(path, node?.ToJsonString() ?? "null");
            }
        }

        Walk(JsonSerializer.SerializeToNode(settings, settings.GetType()), prefix, top: true);
        return this;
    }

    /// <summary>The parameter groups: names, learning-rate scales and shapes.</summary>
    internal TrainingIdentity AddGroups(IReadOnlyList<ParameterGroup> groups)
    {
        Add("parameterGroups", string.Join("; ", groups.Select(group =>
            $"{group.Name} x{group.LearningRateScale.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}: {string.Join(", ", group.Parameters.Select(p => $"[{string.Join(", ", p.shape)}]"))}")));
        return this;
    }

    /// <summary>The inputs' count, shape, dtype and a SHA-256 of their stored values.</summary>
    internal TrainingIdentity AddInputs(string key, InputSet inputs)
    {
        using var scope = NewDisposeScope();
        var host = inputs.Data.detach().cpu().contiguous();
        Add($"{key}.inputs", $"{host.dtype} [{string.Join(", ", host.shape)}] sha256 {Convert.ToHexStringLower(SHA256.HashData(host.bytes))}");
        return this;
    }

    /// <summary>A SHA-256 of a list of integers (labels, pair indices).</summary>
    internal TrainingIdentity AddHash(string key, IEnumerable<int> values)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> buffer = stackalloc byte[sizeof(int)];
        long count = 0;
        foreach (int value in values)
        {
            BitConverter.TryWriteBytes(buffer, value);
            hash.AppendData(buffer);
            count++;
        }

        Add(key, $"{count} values sha256 {Convert.ToHexStringLower(hash.GetHashAndReset())}");
        return this;
    }

    internal JsonObject ToJson() => new(_values.Select(pair => KeyValuePair.Create(pair.Key, (JsonNode?)JsonValue.Create(pair.Value))));

    /// <summary>The first value that differs between a saved identity and this one, described for a message; null if none.</summary>
    internal string? FirstDifference(JsonObject? saved)
    {
        var savedValues = saved?.ToDictionary(pair => pair.Key, pair => pair.Value?.GetValue<string>()) ?? new Dictionary<string, string?>();
        foreach (string key in savedValues.Keys.Union(_values.Keys).OrderBy(key => key, StringComparer.Ordinal))
        {
            savedValues.TryGetValue(key, out string? before);
            _values.TryGetValue(key, out string? now);
            if (before != now)
                return $"{key} was {Show(before)} when it was written and is {Show(now)} now";
        }

        return null;
    }

    private static string Show(string? value) => value is null ? "absent" : value.Length > 160 ? $"'{value[..160]}…'" : $"'{value}'";
}
