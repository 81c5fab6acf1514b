using System.Collections.Generic;
using MetricLearning.Networks;

namespace MetricLearning.Models;

/// <summary>The JSON description saved beside a <see cref="TrainedModel"/>'s weights.</summary>
/// <param name="Format">The file format, <c>metriclearning-model/1</c>.</param>
/// <param name="LibraryVersion">The MetricLearning version that wrote it.</param>
/// <param name="Network">The configuration of an <see cref="MlpEmbeddingNetwork"/>; null for a network of the user's own.</param>
/// <param name="Distance">The distance's type name (for example <c>EuclideanDistance</c>).</param>
/// <param name="DistanceParameters">The distance's settings, by name.</param>
/// <param name="Threshold">The verification threshold.</param>
/// <param name="WeightsSha256">SHA-256 of the weights file, so that a description and weights from different saves are caught.</param>
/// <param name="NetworkType">The network's type: <c>MlpEmbeddingNetwork</c>, or the full type name of the user's own (null in files that predate it: an MLP).</param>
public sealed record ModelDescription(
    string Format,
    string LibraryVersion,
    MlpOptions? Network,
    string Distance,
    IReadOnlyDictionary<string, double> DistanceParameters,
    double Threshold,
    string WeightsSha256,
    string? NetworkType = null);
