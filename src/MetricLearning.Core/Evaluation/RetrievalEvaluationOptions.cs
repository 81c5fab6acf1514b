using System;
using System.Collections.Generic;

namespace MetricLearning.Evaluation;

/// <summary>
/// Which retrieval metrics <see cref="RetrievalEvaluator"/> computes beyond precision@1, R-precision and MAP@R (always
/// computed): precision at other depths, mean average precision and mean reciprocal rank, averages per class, and
/// clustering quality. Each is the metric of the same name in pytorch-metric-learning's <c>AccuracyCalculator</c>.
/// Also where progress reports go (<see cref="Progress"/>).
/// </summary>
/// <remarks>The defaults add nothing, so an evaluation costs what it did without options.</remarks>
public sealed record RetrievalEvaluationOptions
{
    private readonly IReadOnlyList<int> _precisionAtK = Array.Empty<int>();
    private readonly int? _depth;
    private readonly int _clusteringIterations = 20;
    private readonly int _clusteringRestarts = 1;

    /// <summary>
    /// The depths k at which to report precision@k, the share of a query's k nearest references that have its label
    /// (divided by k even when fewer than k references have it, as pytorch-metric-learning's). Each at least 1.
    /// </summary>
    /// <exception cref="ArgumentException">A depth is below 1.</exception>
    public IReadOnlyList<int> PrecisionAtK
    {
        get => _precisionAtK;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            foreach (int k in value)
            {
                if (k < 1)
                    throw new ArgumentException($"Precision@k needs k of at least 1; {k} was given.", nameof(PrecisionAtK));
            }

            _precisionAtK = value;
        }
    }

    /// <summary>
    /// Also compute mean average precision (MAP) and mean reciprocal rank (MRR) over the first
    /// <see cref="Depth"/> neighbours of each query.
    /// </summary>
    public bool MeanAveragePrecision { get; init; }

    /// <summary>
    /// How many neighbours MAP and MRR look at: null (the default) for every reference, which makes MAP the average
    /// precision over all of a query's relevant references and costs a full sort of each query's distances; k for
    /// MAP@k, where, as in pytorch-metric-learning, the sum of precisions at the relevant ranks within k is divided by
    /// R, the number of relevant references, not by min(k, R).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set below 1.</exception>
    public int? Depth
    {
        get => _depth;
        init => _depth = value is < 1 ? throw new ArgumentOutOfRangeException(nameof(Depth), value, "The depth of MAP and MRR must be at least 1, or null for every reference.") : value;
    }

    /// <summary>
    /// Also average each metric over the queries of each class and then over the classes
    /// (<see cref="RetrievalMetrics.ClassAverage"/>, pytorch-metric-learning's <c>avg_of_avgs</c>), and report each
    /// class's own values (<see cref="RetrievalMetrics.PerClass"/>).
    /// </summary>
    public bool PerClass { get; init; }

    /// <summary>
    /// Also cluster the queries with k-means (<see cref="KMeans"/>, as many clusters as the queries have classes) and
    /// report NMI and AMI of the clusters against the labels.
    /// </summary>
    public bool Clustering { get; init; }

    /// <summary>Seed of the k-means draws.</summary>
    public long ClusteringSeed { get; init; }

    /// <summary>k-means iterations per run; at least 1 (20 by default, as pytorch-metric-learning's).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set below 1.</exception>
    public int ClusteringIterations
    {
        get => _clusteringIterations;
        init => _clusteringIterations = value < 1 ? throw new ArgumentOutOfRangeException(nameof(ClusteringIterations), value, "k-means needs at least one iteration.") : value;
    }

    /// <summary>k-means runs from different draws, the one of least inertia kept; at least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set below 1.</exception>
    public int ClusteringRestarts
    {
        get => _clusteringRestarts;
        init => _clusteringRestarts = value < 1 ? throw new ArgumentOutOfRangeException(nameof(ClusteringRestarts), value, "k-means needs at least one run.") : value;
    }

    /// <summary>
    /// Told how far the evaluation has got, for a progress bar or a log line: after each chunk of queries (by
    /// <see cref="RetrievalEvaluator"/>'s tensor overload; the index overload searches all queries in one call and
    /// reports once at the end) and after each k-means iteration (a run that reaches a fixed point early reports its
    /// last iteration at once). Called on the evaluating thread, inside the evaluation's own dispose scopes: a tensor
    /// the callback makes is disposed when it returns, so keep numbers, not tensors. Null (the default) for no reports.
    /// </summary>
    public IProgress<EvaluationProgress>? Progress { get; init; }
}
