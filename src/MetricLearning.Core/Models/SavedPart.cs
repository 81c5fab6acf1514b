using System.Text.Json.Nodes;

namespace MetricLearning.Models;

/// <summary>One part of a saved model as its description holds it: the name its format saves it under, the assembly that defines it, its settings.</summary>
/// <param name="Type">The format's name (<c>MlpEmbeddingNetwork</c>), or the full type name of a part of the user's own built by a factory.</param>
/// <param name="Assembly">The simple name of the assembly that defines the part, so that loading finds its format; null when not recorded.</param>
/// <param name="Settings">What rebuilds it, or null.</param>
internal sealed record SavedPart(string Type, string? Assembly, JsonNode? Settings);
