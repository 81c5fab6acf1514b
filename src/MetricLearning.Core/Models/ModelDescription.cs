using System.Collections.Generic;

namespace MetricLearning.Models;

/// <summary>The JSON description saved beside a <see cref="TrainedModel"/>'s weights (<c>model.json</c>).</summary>
/// <param name="Format">The file format, <c>metriclearning-model/3</c>.</param>
/// <param name="LibraryVersion">The MetricLearning version that wrote it.</param>
/// <param name="Network">The network: its format's name (<c>MlpEmbeddingNetwork</c>), assembly and settings.</param>
/// <param name="Distance">The distance, likewise (settings as named numbers).</param>
/// <param name="Preprocessing">The preprocessing of raw inputs, likewise.</param>
/// <param name="InputShape">The shape of one raw input, when known.</param>
/// <param name="ClassNames">The name of each class number, when the model was trained on named classes.</param>
/// <param name="Threshold">The verification threshold.</param>
/// <param name="WeightsSha256">SHA-256 of the weights file, so that a description and weights from different saves are caught.</param>
internal sealed record ModelDescription(
    string Format,
    string LibraryVersion,
    SavedPart Network,
    SavedPart Distance,
    SavedPart Preprocessing,
    long[]? InputShape,
    string[]? ClassNames,
    double Threshold,
    string WeightsSha256)
{
    /// <summary>The format this version writes.</summary>
    internal const string FormatName = "metriclearning-model/3";
}
