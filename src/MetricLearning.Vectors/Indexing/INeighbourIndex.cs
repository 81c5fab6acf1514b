using System;
using System.Collections.Generic;

namespace MetricLearning.Indexing;

/// <summary>
/// A searchable set of labelled vectors: the seam shared by <see cref="ExactIndex"/> (exact search on plain arrays),
/// <c>EmbeddingIndex</c> (package MetricLearning: exact search on tensors, on the CPU or a GPU) and
/// <c>ApproximateIndex</c> (package MetricLearning.Search: an HNSW graph), so that services and
/// <c>RetrievalEvaluator</c> work with any of them.
/// </summary>
public interface INeighbourIndex : IDisposable
{
    /// <summary>How many vectors the index holds.</summary>
    int Count { get; }

    /// <summary>Whether a larger <see cref="Neighbour.Score"/> is nearer (a similarity) rather than farther (a distance).</summary>
    bool ScoresAreSimilarities { get; }

    /// <summary>How many indexed vectors carry each label.</summary>
    /// <returns>A new dictionary from label to count.</returns>
    IReadOnlyDictionary<int, int> CountLabels();

    /// <summary>The <paramref name="k"/> nearest indexed vectors of one query, nearest first.</summary>
    /// <param name="query">The query, of the index's width, finite values.</param>
    /// <param name="k">How many; between 1 and <see cref="Count"/>.</param>
    /// <returns>Up to <paramref name="k"/> neighbours (an approximate index may find fewer).</returns>
    /// <exception cref="InvalidOperationException">The index is empty.</exception>
    /// <exception cref="ArgumentException">The query has the wrong width or a value that is not finite, or k is out of range.</exception>
    IReadOnlyList<Neighbour> Search(ReadOnlySpan<float> query, int k);

    /// <summary>The <paramref name="k"/> nearest indexed vectors of each of many queries, nearest first.</summary>
    /// <param name="queries">The queries, each of the index's width, finite values.</param>
    /// <param name="k">How many per query; between 1 and <see cref="Count"/>.</param>
    /// <returns>For each query in order, up to <paramref name="k"/> neighbours.</returns>
    /// <exception cref="InvalidOperationException">The index is empty.</exception>
    /// <exception cref="ArgumentException">A query has the wrong width or a value that is not finite, or k is out of range.</exception>
    IReadOnlyList<IReadOnlyList<Neighbour>> Search(IReadOnlyList<float[]> queries, int k);
}
