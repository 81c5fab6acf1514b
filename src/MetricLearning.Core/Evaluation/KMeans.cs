using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Evaluation;

/// <summary>
/// Lloyd's k-means on the device the embeddings are on, for clustering metrics (<see cref="ClusteringScores"/>):
/// centres start at distinct rows drawn at random (as FAISS's k-means, which pytorch-metric-learning uses), then each
/// iteration assigns every row to its nearest centre (squared Euclidean) and moves each centre to the mean of its rows.
/// A centre that loses all its rows stays where it was. With several restarts, the run with the least inertia wins.
/// </summary>
/// <remarks>
/// Seeded and deterministic on one machine: the draws come from a generator of its own, never torch's global one.
/// Rows are compared with the centres in chunks, so memory stays at about <c>chunk × clusters</c> floats. Costs about
/// <c>2 · rows · clusters · width</c> multiply-adds per iteration. Thread-safe (holds no state).
/// </remarks>
public static class KMeans
{
    /// <summary>Clusters the rows of <paramref name="points"/>.</summary>
    /// <param name="points">Shape <c>[N, D]</c>, floating point, N ≥ <paramref name="clusters"/>.</param>
    /// <param name="clusters">How many clusters; at least 1.</param>
    /// <param name="seed">Seed of the draws that place the first centres.</param>
    /// <param name="iterations">Assignment-and-update rounds per run; at least 1 (FAISS's default, and PML's, is 20).</param>
    /// <param name="restarts">Independent runs from different draws; at least 1.</param>
    /// <param name="chunkBytes">Largest row-to-centre distance block to hold at once, in bytes.</param>
    /// <returns>The cluster of each row (0 to <paramref name="clusters"/> − 1) and the winning run's inertia (sum of squared distances to the assigned centres).</returns>
    /// <exception cref="ArgumentException">The points are not a floating-point matrix, or there are fewer rows than clusters.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count is below 1.</exception>
    public static (int[] Assignments, double Inertia) Fit(Tensor points, int clusters, long seed = 0, int iterations = 20, int restarts = 1, long chunkBytes = RetrievalEvaluator.DefaultChunkBytes)
    {
        ArgumentNullException.ThrowIfNull(points);
        TensorChecks.Rank(points, 2, nameof(points));
        TensorChecks.FloatingPoint(points, nameof(points));
        if (clusters < 1)
            throw new ArgumentOutOfRangeException(nameof(clusters), clusters, "k-means needs at least one cluster.");
        if (iterations < 1)
            throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "k-means needs at least one iteration.");
        if (restarts < 1)
            throw new ArgumentOutOfRangeException(nameof(restarts), restarts, "k-means needs at least one run.");
        if (chunkBytes < 1)
            throw new ArgumentOutOfRangeException(nameof(chunkBytes), chunkBytes, "The chunk budget must be positive.");
        long rows = points.shape[0];
        if (rows < clusters)
            throw new ArgumentException($"k-means into {clusters} clusters needs at least as many rows; there are {rows}.", nameof(points));

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = points.detach().to_type(ScalarType.Float32);
        var squaredNorms = x.square().sum(1);
        long chunk = Math.Max(1, chunkBytes / (4L * clusters));
        // On the CPU whatever the device, so that a seed gives the same clustering on any machine.
        using var generator = new Generator((ulong)seed);

        Tensor? bestAssignments = null;
        double bestInertia = double.PositiveInfinity;
        for (int run = 0; run < restarts; run++)
        {
            var first = randperm(rows, generator: generator).narrow(0, 0, clusters).to(x.device);
            var centres = x.index_select(0, first);
            Tensor assignments = null!;
            Tensor minimum = null!;
            for (int iteration = 0; iteration < iterations; iteration++)
            {
                (assignments, minimum) = Assign(x, squaredNorms, centres, chunk);
                var sums = zeros_like(centres).index_add(0, assignments, x, 1);
                var counts = zeros(clusters, dtype: x.dtype, device: x.device).index_add(0, assignments, ones(rows, dtype: x.dtype, device: x.device), 1);
                var filled = counts.gt(0).unsqueeze(1);
                centres = where(filled, sums / counts.clamp_min(1).unsqueeze(1), centres);
            }

            (assignments, minimum) = Assign(x, squaredNorms, centres, chunk);
            double inertia = minimum.to_type(ScalarType.Float64).sum().item<double>();
            if (inertia < bestInertia)
            {
                bestInertia = inertia;
                bestAssignments = assignments;
            }
        }

        var result = bestAssignments!.to_type(ScalarType.Int32).cpu().data<int>().ToArray();
        return (result, bestInertia);
    }

    /// <summary>Each row's nearest centre and its squared distance, chunk by chunk.</summary>
    private static (Tensor Assignments, Tensor Minimum) Assign(Tensor x, Tensor squaredNorms, Tensor centres, long chunk)
    {
        var centreNorms = centres.square().sum(1);
        var assignments = empty(x.shape[0], dtype: ScalarType.Int64, device: x.device);
        var minimum = empty(x.shape[0], dtype: x.dtype, device: x.device);
        for (long start = 0; start < x.shape[0]; start += chunk)
        {
            long length = Math.Min(chunk, x.shape[0] - start);
            using var inner = NewDisposeScope();
            var rows = x.narrow(0, start, length);
            var squared = (squaredNorms.narrow(0, start, length).unsqueeze(1) - 2 * rows.matmul(centres.t()) + centreNorms.unsqueeze(0)).clamp_min(0);
            var (values, indexes) = squared.min(1);
            assignments.narrow(0, start, length).copy_(indexes);
            minimum.narrow(0, start, length).copy_(values);
        }

        return (assignments, minimum);
    }
}
