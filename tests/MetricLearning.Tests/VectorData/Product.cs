using System;
using Microsoft.Extensions.VectorData;

namespace MetricLearning.Tests.VectorData;

/// <summary>A record as an app declares it, with the abstraction's attributes.</summary>
public sealed class Product
{
    [VectorStoreKey]
    public int Id { get; set; }

    [VectorStoreData(IsIndexed = true)]
    public string Category { get; set; } = "";

    [VectorStoreData]
    public int Price { get; set; }

    [VectorStoreData]
    public string[]? Tags { get; set; }

    [VectorStoreVector(4, DistanceFunction = DistanceFunction.CosineSimilarity)]
    public ReadOnlyMemory<float> Embedding { get; set; }
}
