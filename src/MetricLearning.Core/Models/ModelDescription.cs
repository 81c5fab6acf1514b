using System.Collections.Generic;
using MetricLearning.Networks;

namespace MetricLearning.Models;

/// <summary>The JSON description saved beside a <see cref="TrainedModel"/>'s weights (<c>model.json</c>).</summary>
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
/// <param name="ResNet">The configuration of a <see cref="ResNetEmbeddingNetwork"/>; null for any other network.</param>
internal sealed record ModelDescription(
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
    ResNetOptions? ResNet = null);
