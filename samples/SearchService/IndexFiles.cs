using System;
using System.IO;
using System.Text;
using MetricLearning;
using MetricLearning.Distances;
using MetricLearning.Indexing;
using MetricLearning.Models;

namespace SearchService;

/// <summary>Opens either kind of index file, checked against the model whose embeddings it holds.</summary>
public static class IndexFiles
{
    /// <summary>An <see cref="EmbeddingIndex"/> file (searched with the model's distance) or an <see cref="ApproximateIndex"/> file (of the model's metric and width).</summary>
    /// <param name="path">The index file.</param>
    /// <param name="distance">The model's distance.</param>
    /// <param name="width">The model's embedding width.</param>
    /// <exception cref="InvalidDataException">The file is neither, or does not fit the model; the message names it.</exception>
    public static INeighbourIndex Load(string path, IDistance distance, long width)
    {
        var start = new byte[8];
        using (var file = File.OpenRead(path))
            file.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        string magic = Encoding.ASCII.GetString(start);
        if (magic.StartsWith("MLINDEX", StringComparison.Ordinal))
        {
            var exact = EmbeddingIndex.Load(path, distance);
            if (exact.Count > 0 && exact.Dimension != width)
            {
                exact.Dispose();
                throw new InvalidDataException($"'{path}' holds {exact.Dimension}-dimensional embeddings; the model makes {width}-dimensional ones.");
            }

            return exact;
        }

        if (magic.StartsWith("MLANN", StringComparison.Ordinal))
        {
            // Only where the index ranks exactly as the model's own comparison does.
            var metric = distance switch
            {
                CosineSimilarity or DotProductSimilarity { Normalize: true } => IndexMetric.Cosine,
                DotProductSimilarity => IndexMetric.DotProduct,
                EuclideanDistance or LpDistance { P: 2, Normalize: false } => IndexMetric.Euclidean,
                _ => throw new InvalidDataException($"'{path}' is an approximate index, but the model compares embeddings with {distance}, which no approximate index metric matches; serve an EmbeddingIndex instead."),
            };
            return ApproximateIndex.Load(path, metric, checked((int)width));
        }

        throw new InvalidDataException($"'{path}' is neither an EmbeddingIndex nor an ApproximateIndex file.");
    }

    /// <summary>
    /// The library's distance of the name and settings an ONNX model carries, to search an index with when the model
    /// itself is served by ONNX Runtime.
    /// </summary>
    /// <exception cref="InvalidDataException">The model's distance has no index counterpart here.</exception>
    public static IDistance DistanceOf(MetricLearning.Onnx.EmbeddingDistance distance)
    {
        bool normalize = distance.Settings.TryGetValue("normalize", out double flag) && flag != 0;
        return distance.Name switch
        {
            "EuclideanDistance" => new EuclideanDistance(distance.Settings.TryGetValue("floor", out double floor) ? floor : EuclideanDistance.DefaultFloor),
            "SquaredEuclideanDistance" => new SquaredEuclideanDistance(normalize),
            "LpDistance" => new LpDistance(distance.Settings["p"], normalize),
            "CosineDistance" => new CosineDistance(),
            "CosineSimilarity" => new CosineSimilarity(),
            "DotProductSimilarity" => new DotProductSimilarity(normalize),
            _ => throw new InvalidDataException($"The model compares embeddings with {distance}, which this sample cannot search an index with."),
        };
    }
}
