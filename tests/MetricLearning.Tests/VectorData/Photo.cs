using System;
using MetricLearning.VectorData;
using Microsoft.Extensions.VectorData;

namespace MetricLearning.Tests.VectorData;

/// <summary>A record that carries the model's input; the store keeps the embedding the model makes of it.</summary>
public sealed class Photo
{
    [VectorStoreKey]
    public Guid Id { get; set; }

    [VectorStoreData]
    public string Name { get; set; } = "";

    [VectorStoreVector(12, DistanceFunction = DistanceFunction.CosineSimilarity)]
    public ModelInput? Pixels { get; set; }
}
