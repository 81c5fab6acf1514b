using System;
using System.IO;
using System.Linq;
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
        if (Magic(path).StartsWith("MLINDEX", StringComparison.Ordinal))
        {
            var exact = EmbeddingIndex.Load(path, distance);
            if (exact.Count > 0 && exact.Dimension != width)
            {
                exact.Dispose();
                throw new InvalidDataException($"'{path}' holds {exact.Dimension}-dimensional embeddings; the model makes {width}-dimensional ones.");
            }

            return exact;
        }

        // Only where the index ranks exactly as the model's own comparison does.
        var metric = distance switch
        {
            CosineSimilarity or DotProductSimilarity { Normalize: true } => IndexMetric.Cosine,
            DotProductSimilarity => IndexMetric.DotProduct,
            EuclideanDistance or LpDistance { P: 2, Normalize: false } => IndexMetric.Euclidean,
            _ => (IndexMetric?)null,
        };
        return LoadApproximate(path, metric, distance.ToString() ?? distance.GetType().Name, width);
    }

    /// <summary>
    /// The same for a model served by ONNX Runtime, without TorchSharp: an index file of the library's exact format read
    /// by <see cref="ExactIndex"/> (searched with the distance it was saved with, which must be the model's), or an
    /// <see cref="ApproximateIndex"/> file.
    /// </summary>
    /// <param name="path">The index file.</param>
    /// <param name="distance">The model's distance.</param>
    /// <param name="width">The model's embedding width.</param>
    /// <exception cref="InvalidDataException">The file is neither, or does not fit the model; the message names it.</exception>
    public static INeighbourIndex Load(string path, EmbeddingDistance distance, int width)
    {
        if (Magic(path).StartsWith("MLINDEX", StringComparison.Ordinal))
        {
            var exact = ExactIndex.Load(path);
            string? misfit =
                exact.Distance.Name != distance.Name || !exact.Distance.Settings.OrderBy(s => s.Key).SequenceEqual(distance.Settings.OrderBy(s => s.Key))
                    ? $"was saved for {exact.Distance}; the model compares embeddings with {distance}"
                    : exact.Count > 0 && exact.Dimensions != width ? $"holds {exact.Dimensions}-dimensional embeddings; the model makes {width}-dimensional ones" : null;
            if (misfit is not null)
            {
                exact.Dispose();
                throw new InvalidDataException($"'{path}' {misfit}.");
            }

            return exact;
        }

        bool normalize = distance.Settings.TryGetValue("normalize", out double flag) && flag != 0;
        var metric = distance.Name switch
        {
            "CosineSimilarity" => IndexMetric.Cosine,
            "DotProductSimilarity" => normalize ? IndexMetric.Cosine : IndexMetric.DotProduct,
            "EuclideanDistance" => IndexMetric.Euclidean,
            "LpDistance" when !normalize && (!distance.Settings.TryGetValue("p", out double p) || p == 2) => IndexMetric.Euclidean,
            _ => (IndexMetric?)null,
        };
        return LoadApproximate(path, metric, distance.ToString() ?? distance.GetType().Name, width);
    }

    private static INeighbourIndex LoadApproximate(string path, IndexMetric? metric, string distance, long width)
    {
        if (!Magic(path).StartsWith("MLANN", StringComparison.Ordinal))
            throw new InvalidDataException($"'{path}' is neither an exact nor an approximate index file.");
        if (metric is null)
            throw new InvalidDataException($"'{path}' is an approximate index, but the model compares embeddings with {distance}, which no approximate index metric matches; serve an exact index instead.");
        return ApproximateIndex.Load(path, metric.Value, checked((int)width));
    }

    private static string Magic(string path)
    {
        var start = new byte[8];
        using (var file = File.OpenRead(path))
            file.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        return Encoding.ASCII.GetString(start);
    }
}
