using System;
using System.Linq;
using MetricLearning.Indexing;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Evaluation;

/// <summary>
/// Lloyd's k-means on the device the embeddings are on, for clustering metrics (<see cref="ClusteringScores"/>):
/// centres start at distinct rows drawn at random (as FAISS's k-means, which pytorch-metric-learning uses), then each
/// iteration assigns every row to its nearest centre (squared Euclidean) and moves each centre to the mean of its rows.
/// A centre that loses all its rows stays where it was. A run stops early at a fixed point (no row changes centre),
/// where every iteration left would repeat the last, so the result is what running them all gives. With several
/// restarts, the run with the least inertia wins.
/// </summary>
/// <remarks>
/// Seeded and deterministic on one machine: the draws come from a generator of its own, never torch's global one.
/// Rows are compared with the centres in tiles of a few megabytes, the nearest centres kept as the tiles pass (the
/// exact index's search), so no distance matrix is ever held whole: memory is a few copies of the points (their
/// squares, the rows searched again, the inertia's differences), the centres, a few numbers per point and one tile.
/// The first iteration costs about <c>2 · rows · clusters · width</c> floating-point operations; after it, Hamerly's
/// bounds (a point's distance to its centre against its distance to any other, updated by how far the centres moved)
/// leave out the rows whose bounds show they cannot have changed centre, so iterations cost less as the clustering
/// settles, and assign what a full search would, up to the rounding of the distances. Thread-safe (holds no state).
/// </remarks>
public static class KMeans
{
    private static readonly CentreScore Score = new();

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
        var (assignments, inertia, _) = FitRuns(points, clusters, seed, iterations, restarts, chunkBytes, iterationDone: null);
        return (assignments, inertia);
    }

    /// <summary>
    /// As <see cref="Fit(Tensor, int, long, int, int, long)"/>, calling <paramref name="iterationDone"/> with the
    /// iterations done so far over all runs, and saying how many iterations the winning run took (fewer than asked
    /// when it reached a fixed point).
    /// </summary>
    internal static (int[] Assignments, double Inertia, int Iterations) FitRuns(Tensor points, int clusters, long seed, int iterations, int restarts, long chunkBytes, Action<long>? iterationDone)
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
        // On the CPU whatever the device, so that a seed gives the same clustering on any machine.
        using var generator = new Generator((ulong)seed);

        int[]? best = null;
        int bestIterations = 0;
        double bestInertia = double.PositiveInfinity;
        for (int run = 0; run < restarts; run++)
        {
            // Each run and each iteration in a scope of its own, so that memory stays at one iteration's tensors
            // however many iterations and runs there are.
            using var runScope = NewDisposeScope();
            var first = randperm(rows, generator: generator).narrow(0, 0, clusters).to(x.device);
            var centres = x.index_select(0, first);
            var bounds = Bounds.Start(x, squaredNorms, centres, chunkBytes);
            int done = 0;
            for (int iteration = 0; iteration < iterations; iteration++)
            {
                using var iterationScope = NewDisposeScope();
                if (!bounds.Changed)
                {
                    // A fixed point: the same assignments give the same centres, so every iteration left would
                    // repeat this one. Stopping here gives what running them all would.
                    iterationDone?.Invoke((long)(run + 1) * iterations);
                    break;
                }

                var assignments = bounds.Assignments;
                var sums = zeros_like(centres).index_add(0, assignments, x, 1);
                var counts = zeros(clusters, dtype: x.dtype, device: x.device).index_add(0, assignments, ones(rows, dtype: x.dtype, device: x.device), 1);
                var filled = counts.gt(0).unsqueeze(1);
                var moved = where(filled, sums / counts.clamp_min(1).unsqueeze(1), centres).MoveToOuterDisposeScope();
                var shifts = (moved - centres).square().sum(1).sqrt_();
                bounds.Update(x, squaredNorms, moved, shifts, chunkBytes);
                centres.Dispose();
                centres = moved;
                done = iteration + 1;
                iterationDone?.Invoke((long)run * iterations + iteration + 1);
            }

            // The inertia from the points themselves, not from the bounds (which may be loose) or the products.
            var assigned = centres.index_select(0, bounds.Assignments);
            double inertia = (x - assigned).square().sum(1).to_type(ScalarType.Float64).sum().item<double>();
            // The first run always counts, so that points holding NaN still give an answer (of NaN inertia).
            if (best is null || inertia < bestInertia)
            {
                bestInertia = inertia;
                best = bounds.Assignments.to_type(ScalarType.Int32).cpu().data<int>().ToArray();
                bestIterations = done;
            }
        }

        return (best!, bestInertia, bestIterations);
    }

    /// <summary>
    /// Hamerly's bounds for Lloyd's iterations: per point its centre, an upper bound on its distance to that centre
    /// and a lower bound on its distance to any other. When centres move, the upper bound grows by its centre's
    /// shift and the lower bound shrinks by the largest shift of the others; a point whose upper bound stays below
    /// its lower bound cannot have changed centre, and only the others are searched again. So each iteration gives
    /// the assignments a full search would (up to distances equal within rounding), and once few points move it
    /// costs a fraction of one.
    /// </summary>
    private sealed class Bounds
    {
        /// <summary>
        /// A point is searched again unless its upper bound is below its lower bound by this share, a margin for the
        /// rounding of the distances. They come from the expanded form <c>|x|² + |c|² − 2x·c</c>, whose error grows with
        /// <c>|x|²</c>; far from the origin against the clusters' spread it can exceed the margin, and the bounds then
        /// decide as a full search of that form would, up to its rounding.
        /// </summary>
        private const double Slack = 1e-4;

        private Bounds(Tensor assignments, Tensor upper, Tensor lower)
        {
            Assignments = assignments;
            Upper = upper;
            Lower = lower;
        }

        /// <summary>Each point's centre, int64.</summary>
        internal Tensor Assignments { get; }

        /// <summary>At least each point's distance to its centre.</summary>
        private Tensor Upper { get; }

        /// <summary>At most each point's distance to any other centre.</summary>
        private Tensor Lower { get; }

        /// <summary>Whether the last <see cref="Update"/> moved any point to another centre.</summary>
        internal bool Changed { get; private set; } = true;

        /// <summary>Every point searched against every centre.</summary>
        internal static Bounds Start(Tensor x, Tensor squaredNorms, Tensor centres, long chunkBytes)
        {
            var (assignments, nearest, second) = Nearest(x, squaredNorms, centres, chunkBytes);
            return new Bounds(assignments, nearest, second);
        }

        /// <summary>The bounds after the centres moved by <paramref name="shifts"/> to <paramref name="centres"/>, and the points that may have changed centre searched again.</summary>
        internal void Update(Tensor x, Tensor squaredNorms, Tensor centres, Tensor shifts, long chunkBytes)
        {
            using var scope = NewDisposeScope();
            Upper.add_(shifts.index_select(0, Assignments));
            if (shifts.shape[0] > 1)
            {
                // The largest shift of the centres other than a point's own: the largest, or for the point of that
                // centre the second largest.
                var (top, which) = shifts.topk(2);
                var others = where(Assignments.eq(which[0]), top[1], top[0]);
                Lower.sub_(others);
            }

            // Written as "not clearly settled" so that a NaN bound (a point or centre holding NaN) is searched again.
            var active = Upper.lt(Lower * (1 - Slack)).logical_not().nonzero().flatten();
            long count = active.shape[0];
            if (count == 0)
            {
                Changed = false;
                return;
            }

            bool all = count == x.shape[0];
            var (assignments, nearest, second) = Nearest(all ? x : x.index_select(0, active), all ? squaredNorms : squaredNorms.index_select(0, active), centres, chunkBytes);
            Changed = assignments.ne(Assignments.index_select(0, active)).any().item<bool>();
            Assignments.index_copy_(0, active, assignments);
            Upper.index_copy_(0, active, nearest);
            Lower.index_copy_(0, active, second);
        }

        /// <summary>Each point's nearest centre, its distance and the distance to the second nearest (+∞ for one centre).</summary>
        private static (Tensor Assignments, Tensor Nearest, Tensor Second) Nearest(Tensor x, Tensor squaredNorms, Tensor centres, long chunkBytes)
        {
            int k = centres.shape[0] > 1 ? 2 : 1;
            long rows = x.shape[0];
            var assignments = empty(rows, dtype: ScalarType.Int64, device: x.device);
            var scores = empty(rows, k, dtype: x.dtype, device: x.device);
            NearestNeighbours.Search(Score, x, centres, k, chunkBytes, (start, length, values, positions) =>
            {
                assignments.narrow(0, start, length).copy_(positions.select(1, 0));
                scores.narrow(0, start, length).copy_(values);
            });
            // |x - c|^2 = |x|^2 + (|c|^2 - 2 x.c), clamped at 0 against rounding.
            var distances = scores.add_(squaredNorms.unsqueeze(1)).clamp_min_(0).sqrt_();
            var nearest = distances.select(1, 0).clone();
            var second = k == 2 ? distances.select(1, 1).clone() : full(rows, double.PositiveInfinity, dtype: x.dtype, device: x.device);
            return (assignments, nearest, second);
        }
    }

    /// <summary>
    /// A row's squared distance to a centre less the row's own squared norm, <c>|c|² − 2 x·c</c>: it ranks centres
    /// as the squared distance does, and each tile of it is one matrix product and one pass, where the squared
    /// distance needs three passes and both norms per tile.
    /// </summary>
    private sealed class CentreScore : IDistance
    {
        public Tensor Compute(Tensor first, Tensor second)
        {
            using var centreSquares = second.square();
            using var centreNorms = centreSquares.sum(1);
            using var products = (first * second).sum(1);
            return centreNorms.add(products, -2.0);
        }

        public Tensor ComputeMatrix(Tensor queries, Tensor references)
        {
            using var centreSquares = references.square();
            using var centreNorms = centreSquares.sum(1);
            using var referencesT = references.t();
            using var products = queries.matmul(referencesT);
            return centreNorms.add(products, -2.0);
        }

        public bool TryComputeMatrix(Tensor queries, Tensor references, Tensor output)
        {
            using var centreSquares = references.square();
            using var centreNorms = centreSquares.sum(1);
            using var referencesT = references.t();
            output.addmm_(queries, referencesT, beta: 0, alpha: -2).add_(centreNorms);
            return true;
        }
    }
}
