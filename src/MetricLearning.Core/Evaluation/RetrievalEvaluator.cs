using System;
using System.Collections.Generic;
using System.Linq;
using MetricLearning.Indexing;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Evaluation;

/// <summary>
/// Retrieval metrics (precision@1, R-precision, MAP@R) by exact nearest-neighbour search, computed in chunks of
/// queries so that memory stays bounded however many references there are.
/// </summary>
/// <remarks>
/// For each chunk of queries the full distance block to all references is computed with
/// <see cref="IDistance.ComputeMatrix"/>, the R nearest are found with <c>topk</c> (the largest values for a
/// similarity), and the metrics are accumulated on the device; only the totals cross to the host. Ties are broken
/// by <c>topk</c>. Queries whose label no reference has are skipped (R would be 0). Not thread-safe across calls that
/// share tensors; stateless otherwise.
/// </remarks>
public static class RetrievalEvaluator
{
    /// <summary>Default budget for one chunk's distance block.</summary>
    public const long DefaultChunkBytes = 64L * 1024 * 1024;

    /// <summary>Evaluates retrieval of <paramref name="queries"/> against <paramref name="references"/>.</summary>
    /// <param name="queries">Query embeddings <c>[N, D]</c>.</param>
    /// <param name="queryLabels">The class of each query.</param>
    /// <param name="references">Reference embeddings <c>[M, D]</c> on the same device.</param>
    /// <param name="referenceLabels">The class of each reference.</param>
    /// <param name="distance">How embeddings are compared; its <see cref="IDistance.IsSimilarity"/> sets which way is nearer.</param>
    /// <param name="queriesAreReferences">
    /// True when the queries are the references themselves (row i of each is the same item): each query's own row is
    /// then left out of its neighbours.
    /// </param>
    /// <param name="chunkBytes">Largest distance block to hold at once, in bytes (float32 elements × 4).</param>
    /// <exception cref="ArgumentException">Shapes, label counts or devices disagree, or nothing can be evaluated.</exception>
    public static RetrievalMetrics Evaluate(
        Tensor queries,
        IReadOnlyList<int> queryLabels,
        Tensor references,
        IReadOnlyList<int> referenceLabels,
        IDistance distance,
        bool queriesAreReferences = false,
        long chunkBytes = DefaultChunkBytes)
    {
        ArgumentNullException.ThrowIfNull(queryLabels);
        ArgumentNullException.ThrowIfNull(referenceLabels);
        ArgumentNullException.ThrowIfNull(distance);
        TensorChecks.EmbeddingBatches(queries, nameof(queries), references, nameof(references), rowWise: false);
        if (queryLabels.Count != queries.shape[0])
            throw new ArgumentException($"There are {queryLabels.Count} query labels for {queries.shape[0]} queries.", nameof(queryLabels));
        if (referenceLabels.Count != references.shape[0])
            throw new ArgumentException($"There are {referenceLabels.Count} reference labels for {references.shape[0]} references.", nameof(referenceLabels));
        if (queriesAreReferences && queries.shape[0] != references.shape[0])
            throw new ArgumentException("Queries that are the references must have as many rows as the references.", nameof(queriesAreReferences));

        // R per query: references sharing its label, less itself when the sets are one.
        var perLabel = referenceLabels.GroupBy(label => label).ToDictionary(group => group.Key, group => group.Count());
        var r = new long[queryLabels.Count];
        for (int i = 0; i < r.Length; i++)
            r[i] = (perLabel.TryGetValue(queryLabels[i], out int count) ? count : 0) - (queriesAreReferences ? 1 : 0);
        int maxR = (int)Math.Min(r.Max(), references.shape[0] - (queriesAreReferences ? 1 : 0));
        if (maxR < 1)
            throw new ArgumentException("No query has a reference of its own label, so retrieval cannot be measured.", nameof(referenceLabels));

        var device = queries.device;
        using var totals = zeros(3, dtype: ScalarType.Float64, device: device);
        using var referenceLabelTensor = tensor(referenceLabels.Select(label => (long)label).ToArray(), device: device);
        using var queryLabelTensor = tensor(queryLabels.Select(label => (long)label).ToArray(), device: device);
        using var rTensor = tensor(r, device: device);
        using var positions = arange(1, maxR + 1, dtype: ScalarType.Float64, device: device);

        void ExcludeSelf(long start, long length, Tensor block)
        {
            // A query is not its own neighbour: push it to the far end.
            var rows = arange(length, device: device);
            block.index_put_(distance.IsSimilarity ? double.NegativeInfinity : double.PositiveInfinity, rows, rows + start);
        }

        void Accumulate(long start, long length, Tensor values, Tensor nearest)
        {
            var relevant = referenceLabelTensor.index_select(0, nearest.flatten()).view(length, maxR)
                .eq(queryLabelTensor.narrow(0, start, length).unsqueeze(1)).to_type(ScalarType.Float64);
            var queryR = rTensor.narrow(0, start, length).to_type(ScalarType.Float64);
            var valid = queryR.gt(0).to_type(ScalarType.Float64);
            var withinR = positions.unsqueeze(0).le(queryR.unsqueeze(1)).to_type(ScalarType.Float64);
            var relevantWithinR = relevant * withinR;
            var safeR = queryR.clamp_min(1);

            var precisionAt1 = relevant.select(1, 0) * valid;
            var rPrecision = relevantWithinR.sum(1) / safeR * valid;
            var precisionAtI = relevant.cumsum(1) / positions.unsqueeze(0);
            var mapAtR = (precisionAtI * relevantWithinR).sum(1) / safeR * valid;
            totals.add_(stack(new[] { precisionAt1.sum(), rPrecision.sum(), mapAtR.sum() }));
        }

        NearestNeighbours.Search(distance, queries, references, maxR, chunkBytes, Accumulate, queriesAreReferences ? ExcludeSelf : null);

        int evaluated = r.Count(value => value > 0);
        var sums = totals.cpu().data<double>().ToArray();
        return new RetrievalMetrics(sums[0] / evaluated, sums[1] / evaluated, sums[2] / evaluated, evaluated);
    }

    /// <summary>
    /// Evaluates retrieval of <paramref name="queries"/> against the vectors of an index, exact or approximate, so
    /// that the cost of approximate search can be measured in the metrics it changes.
    /// </summary>
    /// <param name="index">The references: an <see cref="EmbeddingIndex"/>, an <c>ApproximateIndex</c> (package MetricLearning.Search) or an index of your own.</param>
    /// <param name="queries">Query vectors, each of the index's width.</param>
    /// <param name="queryLabels">The class of each query.</param>
    /// <param name="maxR">
    /// Null (the default) for the metrics as defined, where R is the number of indexed vectors of the query's class;
    /// otherwise R is capped at this value (pytorch-metric-learning's <c>k</c>): each query then asks the index for
    /// only that many neighbours, which is what keeps an approximate index fast. Precision@1 is the same either way.
    /// </param>
    /// <returns>The metrics over the queries whose class the index holds.</returns>
    /// <exception cref="ArgumentException">There are no queries, the label count differs from the query count, <paramref name="maxR"/> is less than 1, or no query's class is in the index.</exception>
    public static RetrievalMetrics Evaluate(INeighbourIndex index, IReadOnlyList<float[]> queries, IReadOnlyList<int> queryLabels, int? maxR = null)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(queryLabels);
        if (queryLabels.Count != queries.Count)
            throw new ArgumentException($"There are {queryLabels.Count} query labels for {queries.Count} queries.", nameof(queryLabels));
        if (queries.Count == 0)
            throw new ArgumentException("There are no queries to evaluate.", nameof(queries));
        if (maxR is < 1)
            throw new ArgumentException($"maxR is {maxR}; it must be at least 1, or null for no cap.", nameof(maxR));

        var perLabel = index.CountLabels();
        var r = queryLabels.Select(label => Math.Min(perLabel.TryGetValue(label, out int count) ? count : 0, maxR ?? int.MaxValue)).ToArray();
        int k = r.Max();
        if (k < 1)
            throw new ArgumentException("No query has a reference of its own label in the index, so retrieval cannot be measured.", nameof(queryLabels));

        var neighbours = index.Search(queries, k);
        double precisionAt1 = 0, rPrecision = 0, mapAtR = 0;
        int evaluated = 0;
        for (int q = 0; q < queries.Count; q++)
        {
            if (r[q] == 0)
                continue;
            evaluated++;
            var found = neighbours[q];
            int relevantSoFar = 0;
            double precisionSum = 0;
            for (int i = 0; i < Math.Min(r[q], found.Count); i++)
            {
                if (found[i].Label != queryLabels[q])
                    continue;
                relevantSoFar++;
                precisionSum += relevantSoFar / (double)(i + 1);
                if (i == 0)
                    precisionAt1++;
            }

            rPrecision += relevantSoFar / (double)r[q];
            mapAtR += precisionSum / r[q];
        }

        return new RetrievalMetrics(precisionAt1 / evaluated, rPrecision / evaluated, mapAtR / evaluated, evaluated);
    }
}
