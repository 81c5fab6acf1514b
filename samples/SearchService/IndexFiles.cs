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
        if (magic.StartsWith("MLINDEX", StringComparison.Ordinal))
            return EmbeddingIndex.Load(path, model.Distance);
        if (magic.StartsWith("MLANN", StringComparison.Ordinal))
        {
            var metric = model.Distance switch
            {
                CosineSimilarity => IndexMetric.Cosine,
                DotProductSimilarity => IndexMetric.DotProduct,
                EuclideanDistance or LpDistance { P: 2 } => IndexMetric.Euclidean,
                _ => throw new InvalidDataException($"'{path}' is an approximate index, but the model compares embeddings with {model.Distance.GetType().Name}, which an approximate index does not offer."),
            };
            return ApproximateIndex.Load(path, metric, checked((int)model.Network.EmbeddingSize));
        }

        throw new InvalidDataException($"'{path}' is neither an EmbeddingIndex nor an ApproximateIndex file.");
    }
}
