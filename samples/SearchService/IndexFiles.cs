using System;
using System.IO;
using System.Text;
using MetricLearning.Distances;
using MetricLearning.Indexing;
using MetricLearning.Models;

namespace SearchService;

/// <summary>Opens either kind of index file, checked against the model whose embeddings it holds.</summary>
public static class IndexFiles
{
    /// <summary>An <see cref="EmbeddingIndex"/> file (searched with the model's distance) or an <see cref="ApproximateIndex"/> file (of the model's metric and width).</summary>
    /// <exception cref="InvalidDataException">The file is neither, or does not fit the model; the message names it.</exception>
    public static INeighbourIndex Load(string path, TrainedModel model)
    {
        var start = new byte[8];
        using (var file = File.OpenRead(path))
            file.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        string magic = Encoding.ASCII.GetString(start);
        long width = model.Network.EmbeddingSize;
        if (magic.StartsWith("MLINDEX", StringComparison.Ordinal))
        {
            var exact = EmbeddingIndex.Load(path, model.Distance);
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
            var metric = model.Distance switch
            {
                CosineSimilarity or DotProductSimilarity { Normalize: true } => IndexMetric.Cosine,
                DotProductSimilarity => IndexMetric.DotProduct,
                EuclideanDistance or LpDistance { P: 2, Normalize: false } => IndexMetric.Euclidean,
                _ => throw new InvalidDataException($"'{path}' is an approximate index, but the model compares embeddings with {model.Distance}, which no approximate index metric matches; serve an EmbeddingIndex instead."),
            };
            return ApproximateIndex.Load(path, metric, checked((int)width));
        }

        throw new InvalidDataException($"'{path}' is neither an EmbeddingIndex nor an ApproximateIndex file.");
    }
}
