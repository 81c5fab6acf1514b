using System;
using System.Collections.Generic;
using System.Linq;
using MetricLearning.Indexing;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Evaluation;

/// <summary>
/// Retrieval metrics (precision@1, R-precision, MAP@R, and on request precision@k, MAP, MRR, class averages, NMI and
/// AMI: <see cref="RetrievalEvaluationOptions"/>) by exact nearest-neighbour search, computed in chunks of queries so
/// that memory stays bounded however many references there are, or from any <see cref="INeighbourIndex"/>.
/// </summary>
/// <remarks>
/// Each chunk of queries is compared with one block of references at a time, in tiles of a few megabytes written into
/// one buffer (<see cref="IDistance.TryComputeMatrix"/>, or <see cref="IDistance.ComputeMatrix"/> for a distance
/// without it), and the R nearest are kept as the tiles pass (the largest values for a similarity; of equal values, on
/// the CPU in float32, the smaller reference position; a k above 256 takes whole rows and <c>topk</c> instead). Each query's metrics are then
/// computed on the device; only those (a few numbers per query) cross to the host. Each metric equals pytorch-metric-learning's <c>AccuracyCalculator</c>'s
/// of the same name on the same neighbours. Queries whose label no reference has are skipped (R would be 0). Not thread-safe across calls that
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
    /// <param name="options">Which metrics to add to precision@1, R-precision and MAP@R; null for none.</param>
    /// <exception cref="ArgumentException">Shapes, label counts or devices disagree, nothing can be evaluated, or a precision@k asks for more neighbours than there are references.</exception>
    public static RetrievalMetrics Evaluate(
        Tensor queries,
        IReadOnlyList<int> queryLabels,
        Tensor references,
        IReadOnlyList<int> referenceLabels,
        IDistance distance,
        bool queriesAreReferences = false,
        long chunkBytes = DefaultChunkBytes,
        RetrievalEvaluationOptions? options = null)
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
        options ??= new RetrievalEvaluationOptions();

        // R per query: references sharing its label, less itself when the sets are one.
        var perLabel = referenceLabels.GroupBy(label => label).ToDictionary(group => group.Key, group => group.Count());
        var r = new long[queryLabels.Count];
        for (int i = 0; i < r.Length; i++)
            r[i] = (perLabel.TryGetValue(queryLabels[i], out int count) ? count : 0) - (queriesAreReferences ? 1 : 0);
        long available = references.shape[0] - (queriesAreReferences ? 1 : 0);
        int maxR = (int)Math.Min(r.Max(), available);
        if (maxR < 1)
            throw new ArgumentException("No query has a reference of its own label, so retrieval cannot be measured.", nameof(referenceLabels));
        var layout = new MetricLayout(options, available);
        int k = Math.Max(maxR, layout.Neighbours);

        var device = queries.device;
        using var perQuery = zeros(queries.shape[0], layout.Columns, dtype: ScalarType.Float64, device: device);
        using var referenceLabelTensor = tensor(referenceLabels.Select(label => (long)label).ToArray(), device: device);
        using var queryLabelTensor = tensor(queryLabels.Select(label => (long)label).ToArray(), device: device);
        using var rTensor = tensor(r, device: device);
        using var positions = arange(1, k + 1, dtype: ScalarType.Float64, device: device);

        void ExcludeSelf(long start, long length, long first, Tensor tile)
        {
            // A query is not its own neighbour: push it to the far end, where this tile holds it.
            long from = Math.Max(start, first), to = Math.Min(start + length, first + tile.shape[1]);
            if (from >= to)
                return;
            var selves = arange(from, to, device: device);
            tile.index_put_(distance.IsSimilarity ? double.NegativeInfinity : double.PositiveInfinity, selves - start, selves - first);
        }

        void Accumulate(long start, long length, Tensor values, Tensor nearest)
        {
            var relevant = referenceLabelTensor.index_select(0, nearest.flatten()).view(length, k)
                .eq(queryLabelTensor.narrow(0, start, length).unsqueeze(1)).to_type(ScalarType.Float64);
            var queryR = rTensor.narrow(0, start, length).to_type(ScalarType.Float64);
            var withinR = positions.unsqueeze(0).le(queryR.unsqueeze(1)).to_type(ScalarType.Float64);
            var relevantWithinR = relevant * withinR;
            var safeR = queryR.clamp_min(1);
            var precisionAtI = relevant.cumsum(1) / positions.unsqueeze(0);

            var columns = new List<Tensor>
            {
                relevant.select(1, 0),
                relevantWithinR.sum(1) / safeR,
                (precisionAtI * relevantWithinR).sum(1) / safeR,
            };
            foreach (int depth in options.PrecisionAtK)
                columns.Add(relevant.narrow(1, 0, depth).sum(1) / depth);
            if (options.MeanAveragePrecision)
            {
                var relevantWithinDepth = relevant.narrow(1, 0, layout.Depth);
                columns.Add((precisionAtI.narrow(1, 0, layout.Depth) * relevantWithinDepth).sum(1) / safeR);
                // The first relevant rank: positions where relevant, +∞ elsewhere, least of them; 1/∞ is 0.
                var firstRank = positions.narrow(0, 0, layout.Depth).unsqueeze(0).expand(length, layout.Depth)
                    .masked_fill(relevantWithinDepth.eq(0), double.PositiveInfinity).amin(1);
                columns.Add(firstRank.reciprocal());
            }

            perQuery.narrow(0, start, length).copy_(stack(columns, 1));
            options.Progress?.Report(new EvaluationProgress(EvaluationStage.Neighbours, start + length, queries.shape[0]));
        }

        NearestNeighbours.Search(distance, queries, references, k, chunkBytes, Accumulate, queriesAreReferences ? ExcludeSelf : null);

        var values = perQuery.cpu().data<double>().ToArray();
        return layout.Summarize(values, r, queryLabels, options.Clustering ? () => Clusters(queries, queryLabels, options) : null);
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
    /// <param name="options">Which metrics to add to precision@1, R-precision and MAP@R; null for none. MAP and MRR over every reference ask the index for all its vectors.</param>
    /// <returns>The metrics over the queries whose class the index holds.</returns>
    /// <exception cref="ArgumentException">There are no queries, the label count differs from the query count, <paramref name="maxR"/> is less than 1, no query's class is in the index, or a precision@k asks for more neighbours than the index holds.</exception>
    public static RetrievalMetrics Evaluate(INeighbourIndex index, IReadOnlyList<float[]> queries, IReadOnlyList<int> queryLabels, int? maxR = null, RetrievalEvaluationOptions? options = null)
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
        options ??= new RetrievalEvaluationOptions();

        var perLabel = index.CountLabels();
        var trueR = queryLabels.Select(label => (long)(perLabel.TryGetValue(label, out int count) ? count : 0)).ToArray();
        var r = trueR.Select(value => Math.Min(value, maxR ?? int.MaxValue)).ToArray();
        var layout = new MetricLayout(options, index.Count);
        int k = (int)Math.Max(r.Max(), layout.Neighbours);
        if (r.Max() < 1)
            throw new ArgumentException("No query has a reference of its own label in the index, so retrieval cannot be measured.", nameof(queryLabels));

        var neighbours = index.Search(queries, k);
        options.Progress?.Report(new EvaluationProgress(EvaluationStage.Neighbours, queries.Count, queries.Count));
        var values = new double[queries.Count * layout.Columns];
        for (int q = 0; q < queries.Count; q++)
        {
            if (r[q] == 0)
                continue;
            var found = neighbours[q];
            var row = values.AsSpan(q * layout.Columns, layout.Columns);
            int relevantSoFar = 0, relevantWithinR = 0;
            double precisionSumWithinR = 0, precisionSumWithinDepth = 0, reciprocalRank = 0;
            var relevantWithinK = new int[options.PrecisionAtK.Count];
            for (int i = 0; i < found.Count; i++)
            {
                if (found[i].Label != queryLabels[q])
                    continue;
                relevantSoFar++;
                double precision = relevantSoFar / (double)(i + 1);
                if (i < r[q])
                {
                    relevantWithinR++;
                    precisionSumWithinR += precision;
                }

                if (i < layout.Depth)
                {
                    precisionSumWithinDepth += precision;
                    if (reciprocalRank == 0)
                        reciprocalRank = 1.0 / (i + 1);
                }

                for (int j = 0; j < relevantWithinK.Length; j++)
                {
                    if (i < options.PrecisionAtK[j])
                        relevantWithinK[j]++;
                }
            }

            row[0] = found.Count > 0 && found[0].Label == queryLabels[q] ? 1 : 0;
            row[1] = relevantWithinR / (double)r[q];
            row[2] = precisionSumWithinR / r[q];
            for (int j = 0; j < relevantWithinK.Length; j++)
                row[3 + j] = relevantWithinK[j] / (double)options.PrecisionAtK[j];
            if (options.MeanAveragePrecision)
            {
                // MAP divides by the query's true R (every relevant reference), not the capped one.
                row[3 + relevantWithinK.Length] = precisionSumWithinDepth / trueR[q];
                row[4 + relevantWithinK.Length] = reciprocalRank;
            }
        }

        return layout.Summarize(values, r, queryLabels, options.Clustering ? () =>
        {
            using var stacked = tensor(queries.SelectMany(v => v).ToArray(), new long[] { queries.Count, queries[0].Length });
            return Clusters(stacked, queryLabels, options);
        } : null);
    }

    /// <summary>NMI and AMI of a k-means clustering of the queries into as many clusters as they have classes.</summary>
    private static (double Nmi, double Ami) Clusters(Tensor queries, IReadOnlyList<int> labels, RetrievalEvaluationOptions options)
    {
        int classes = labels.Distinct().Count();
        long total = (long)options.ClusteringIterations * options.ClusteringRestarts;
        Action<long>? iterationDone = options.Progress is { } progress
            ? done => progress.Report(new EvaluationProgress(EvaluationStage.Clustering, done, total))
            : null;
        var (assignments, _, _) = KMeans.FitRuns(queries, classes, options.ClusteringSeed, options.ClusteringIterations, options.ClusteringRestarts, RetrievalEvaluator.DefaultChunkBytes, iterationDone);
        return (ClusteringScores.NormalizedMutualInformation(labels, assignments), ClusteringScores.AdjustedMutualInformation(labels, assignments));
    }
}
