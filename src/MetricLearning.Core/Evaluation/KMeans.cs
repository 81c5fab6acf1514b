using System;
using System.Collections.Generic;
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
/// Rows are compared with the centres in tiles of a few megabytes, each tile's nearest two centres kept while it is in
/// the cache, so no distance matrix is ever held whole: memory is the points and their squares, the centres, a few
/// numbers per point and per group of centres, and a few tiles.
/// The first iteration costs about <c>2 · rows · clusters · width</c> floating-point operations. After it, Yinyang
/// bounds (a point's distance to its centre against its distance to each group of neighbouring centres, updated by
/// how far the centres moved) leave out the points, and for the others the groups, that cannot hold a nearer centre;
/// the few centres that moved most in an iteration are measured against every point instead of loosening their
/// groups' bounds. So iterations cost less as the clustering settles, and assign what a full search would, up to the
/// rounding of the distances. Thread-safe (holds no state).
/// </remarks>
public static class KMeans
{
    /// <summary>
    /// How many centres share one lower bound per point. Fewer bound more tightly but make each group's search a
    /// thinner matrix product; a few hundred keep the products efficient.
    /// </summary>
    private const int CentresPerGroup = 256;

    /// <summary>The most memory the per-group lower bounds may take: about 26 bytes per point and group at the peak of an iteration, with the search's own.</summary>
    private const long BoundsBytes = 256L * 1024 * 1024;

    /// <summary>
    /// One centre in this many, those that moved most in an iteration, is measured against every point (about
    /// 1/<c>MoverShare</c> of a full search), so that the lower bounds shrink by the shifts of the others only: once
    /// most centres settle, a few keep moving far, and they would otherwise loosen every bound of their group.
    /// </summary>
    private const int MoverShare = 16;

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
    /// when it reached a fixed point). <paramref name="centresPerGroup"/> sets how many centres share a lower bound
    /// (see <see cref="GroupBounds"/>); tests set it small so that a few centres fall into several groups.
    /// </summary>
    internal static (int[] Assignments, double Inertia, int Iterations) FitRuns(Tensor points, int clusters, long seed, int iterations, int restarts, long chunkBytes, Action<long>? iterationDone, int centresPerGroup = CentresPerGroup)
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
            var (groupLengths, order) = Group(x, first, clusters, seed, chunkBytes, centresPerGroup);
            if (order is not null)
                first = first.index_select(0, order);
            var centres = x.index_select(0, first);
            var bounds = GroupBounds.Start(x, squaredNorms, centres, groupLengths, chunkBytes);
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
                // Back from the grouped order of the centres to the order they were drawn in.
                var clustersOfRows = order is null ? bounds.Assignments : order.index_select(0, bounds.Assignments);
                best = clustersOfRows.to_type(ScalarType.Int32).cpu().data<int>().ToArray();
                bestIterations = done;
            }
        }

        return (best!, bestInertia, bestIterations);
    }

    /// <summary>
    /// Splits the first centres (the rows <paramref name="first"/>) into groups of neighbours for
    /// <see cref="GroupBounds"/>, by a short k-means of the centres themselves, as Yinyang k-means does. Returns the
    /// groups' sizes and the order that makes each group a contiguous block of centres (null for one group).
    /// </summary>
    private static (long[] Lengths, Tensor? Order) Group(Tensor x, Tensor first, int clusters, long seed, long chunkBytes, int centresPerGroup)
    {
        long rows = x.shape[0];
        long wanted = (clusters + (long)centresPerGroup - 1) / centresPerGroup;
        int groups = (int)Math.Clamp(Math.Min(wanted, BoundsBytes / (26 * rows)), 1, clusters);
        if (groups == 1)
            return (new long[] { clusters }, null);

        int[] groupOf;
        // One group for the centres' own k-means (a bound per group would cost more than it saves on so few
        // centres), which also keeps it from grouping again.
        using (var initial = x.index_select(0, first))
            (groupOf, _, _) = FitRuns(initial, groups, seed, iterations: 5, restarts: 1, chunkBytes, iterationDone: null, centresPerGroup: int.MaxValue);
        var lengths = new long[groups];
        foreach (int group in groupOf)
            lengths[group]++;
        // Stable, so that within a group centres keep the order they were drawn in.
        var order = Enumerable.Range(0, clusters).OrderBy(centre => groupOf[centre]).Select(centre => (long)centre).ToArray();
        return (lengths.Where(length => length > 0).ToArray(), tensor(order, device: x.device));
    }

    /// <summary>
    /// Yinyang bounds (Ding et al., 2015) for Lloyd's iterations. The centres are split into groups of neighbouring
    /// centres, each a contiguous block; per point they keep its centre, an upper bound on its distance to that centre
    /// and, per group, a lower bound on its distance to any centre of the group other than its own. When centres move,
    /// the upper bound grows by its centre's shift. The few centres that moved most (one in <see cref="MoverShare"/>,
    /// the movers) are measured against every point, and each group's lower bound becomes the lesser of itself less
    /// the largest shift of the group's other centres and the exact distances to the group's movers. A point whose
    /// upper bound stays below every lower bound cannot have changed centre; otherwise only the groups whose lower
    /// bound fell below its (tightened) upper bound are searched again, each as one matrix product of the points
    /// concerned against that group's block of centres. So each iteration assigns what a full search would (up to
    /// distances equal within rounding). Without the movers, one far-moving centre would loosen every bound of its
    /// group, and with one group (Hamerly's bounds) every bound: at 512 dimensions that pruned almost nothing.
    /// </summary>
    private sealed class GroupBounds
    {
        /// <summary>
        /// A point or group is searched again unless its upper bound is below the lower bound by this share, a margin
        /// for the rounding of the distances. They come from the expanded form <c>|x|² + |c|² − 2x·c</c>, whose error
        /// grows with <c>|x|²</c>; far from the origin against the clusters' spread it can exceed the margin, and the
        /// bounds then decide as a full search of that form would, up to its rounding.
        /// </summary>
        private const double Slack = 1e-4;

        private readonly long[] _groupStarts;
        private readonly long[] _groupLengths;
        private readonly Tensor _groupOf;

        private GroupBounds(long[] groupLengths, Tensor groupOf, Tensor assignments, Tensor upper, Tensor lower)
        {
            _groupLengths = groupLengths;
            _groupStarts = new long[groupLengths.Length];
            for (int g = 1; g < groupLengths.Length; g++)
                _groupStarts[g] = _groupStarts[g - 1] + groupLengths[g - 1];
            _groupOf = groupOf;
            Assignments = assignments;
            Upper = upper;
            Lower = lower;
        }

        /// <summary>Each point's centre, int64.</summary>
        internal Tensor Assignments { get; }

        /// <summary>At least each point's distance to its centre, <c>[N]</c>.</summary>
        private Tensor Upper { get; }

        /// <summary>Per point and group, at most the point's distance to any centre of the group but its own, <c>[N, groups]</c>.</summary>
        private Tensor Lower { get; }

        /// <summary>Whether the last <see cref="Update"/> moved any point to another centre.</summary>
        internal bool Changed { get; private set; } = true;

        /// <summary>Every point searched against every centre; <paramref name="groupLengths"/> are the sizes of the consecutive blocks of centres that form the groups.</summary>
        internal static GroupBounds Start(Tensor x, Tensor squaredNorms, Tensor centres, long[] groupLengths, long chunkBytes)
        {
            long rows = x.shape[0];
            int groups = groupLengths.Length;
            var bounds = new GroupBounds(
                groupLengths,
                arange(groups, dtype: ScalarType.Int64, device: x.device).repeat_interleave(tensor(groupLengths, device: x.device)),
                zeros(rows, dtype: ScalarType.Int64, device: x.device),
                full(rows, double.PositiveInfinity, dtype: x.dtype, device: x.device),
                empty(rows, groups, dtype: x.dtype, device: x.device));
            using var scope = NewDisposeScope();
            var everyGroup = ones(rows, groups, dtype: ScalarType.Bool, device: x.device);
            var centreNorms = centres.square().sum(1);
            bounds.Search(x, squaredNorms, centres, centreNorms, subset: null, everyGroup, bounds.Upper, bounds.Assignments, bounds.Lower, chunkBytes);
            return bounds;
        }

        /// <summary>The bounds after the centres moved by <paramref name="shifts"/> to <paramref name="centres"/>, and the points that may have changed centre searched again in the groups where they may have.</summary>
        internal void Update(Tensor x, Tensor squaredNorms, Tensor centres, Tensor shifts, long chunkBytes)
        {
            using var scope = NewDisposeScope();
            int groups = _groupLengths.Length;
            var centreNorms = centres.square().sum(1);
            Upper.add_(shifts.index_select(0, Assignments));
            long centreCount = shifts.shape[0];
            if (centreCount == 1)
            {
                Lower.sub_(shifts);
            }
            else
            {
                // The centres that moved most are measured against every point; the groups' bounds then shrink by
                // the largest shift of the others only. A centre holding NaN is never the nearest (the searches count
                // it infinitely far), so its shift bounds nothing and counts as none.
                var finite = shifts.nan_to_num(0);
                var movers = finite.topk((int)Math.Max(1, centreCount / MoverShare)).indexes.sort().Values;
                var rest = finite.index_fill(0, movers, 0);
                var groupShifts = stack(Enumerable.Range(0, groups).Select(g => rest.narrow(0, _groupStarts[g], _groupLengths[g]).max()).ToArray());
                Lower.sub_(groupShifts.unsqueeze(0));
                LowerByMovers(x, squaredNorms, centres, centreNorms, movers, chunkBytes);
            }

            // Written as "not clearly settled" so that a NaN bound (a point or centre holding NaN) is searched again.
            var active = Upper.lt(Lower.amin(1) * (1 - Slack)).logical_not().nonzero().flatten();
            if (active.shape[0] == 0)
            {
                Changed = false;
                return;
            }

            var previous = Assignments.index_select(0, active);
            // The exact distance to its own centre tightens a point's upper bound; a NaN one counts as infinite, so
            // that a point whose centre holds NaN moves to any centre that does not.
            var upper = OwnDistances(x, squaredNorms, centres, centreNorms, active, previous, chunkBytes).nan_to_num_(double.PositiveInfinity);
            var lower = Lower.index_select(0, active);
            var searched = upper.unsqueeze(1).lt(lower * (1 - Slack)).logical_not();
            var nearest = upper.clone();
            var assignments = previous.clone();
            Search(x, squaredNorms, centres, centreNorms, active, searched, nearest, assignments, lower, chunkBytes);

            // A point that left its centre for another group: its old centre is now one of the others in its old
            // group, at the distance just measured, which that group's bound must not exceed if it was not searched.
            var moved = assignments.ne(previous);
            var oldGroup = _groupOf.index_select(0, previous).unsqueeze(1);
            var oldBound = lower.gather(1, oldGroup);
            var lowered = moved.unsqueeze(1).logical_and(searched.gather(1, oldGroup).logical_not());
            lower.scatter_(1, oldGroup, where(lowered, minimum(oldBound, upper.unsqueeze(1)), oldBound));

            Changed = moved.any().item<bool>();
            Assignments.index_copy_(0, active, assignments);
            Upper.index_copy_(0, active, nearest);
            Lower.index_copy_(0, active, lower);
        }

        /// <summary>
        /// Searches the points <paramref name="subset"/> (all when null) in the groups <paramref name="searched"/> marks
        /// (<c>[M, groups]</c>): each group's nearest centre replaces a point's <paramref name="nearest"/> distance and
        /// <paramref name="assignments"/> when closer, and its lower bound in <paramref name="lower"/> becomes the
        /// exact distance to the group's nearest centre other than the point's final one.
        /// </summary>
        private void Search(Tensor x, Tensor squaredNorms, Tensor centres, Tensor centreNorms, Tensor? subset, Tensor searched, Tensor nearest, Tensor assignments, Tensor lower, long chunkBytes)
        {
            using var scope = NewDisposeScope();
            int groups = _groupLengths.Length;
            // Per searched point and group, the second nearest distance and the nearest centre: the bound of the
            // group a point ends in must leave that centre out.
            var second = full_like(lower, double.PositiveInfinity);
            var groupNearest = full(lower.shape, -1, dtype: ScalarType.Int32, device: lower.device);
            // Tiles of a few megabytes, all written into one buffer, so that the top-2 reads what the product just
            // wrote while it is in the cache and no tile is memory mapped and zeroed afresh.
            long tileValues = TileValues(chunkBytes, _groupLengths.Max());
            var buffer = empty(tileValues, dtype: x.dtype, device: x.device);
            for (int g = 0; g < groups; g++)
            {
                using var groupScope = NewDisposeScope();
                var local = searched.select(1, g).nonzero().flatten();
                long count = local.shape[0];
                if (count == 0)
                    continue;

                long start = _groupStarts[g], length = _groupLengths[g];
                var blockT = centres.narrow(0, start, length).t();
                var blockNorms = centreNorms.narrow(0, start, length);
                long chunk = tileValues / length;
                for (long offset = 0; offset < count; offset += chunk)
                {
                    using var chunkScope = NewDisposeScope();
                    long size = Math.Min(chunk, count - offset);
                    var part = local.narrow(0, offset, size);
                    var points = subset is null ? part : subset.index_select(0, part);
                    // The distance is worked out from the score for the nearest two only. NaN (a point or centre
                    // holding NaN) counts as infinitely far, so that such a centre is never nearest and bounds no
                    // group: top-k ranks NaN last.
                    var scores = buffer.narrow(0, 0, size * length).view(size, length)
                        .addmm_(x.index_select(0, points), blockT, beta: 0, alpha: -2).add_(blockNorms);
                    var (top, positions) = scores.topk((int)Math.Min(2, length), dim: 1, largest: false);
                    var values = FromScores(top, squaredNorms.index_select(0, points).unsqueeze(1)).nan_to_num_(double.PositiveInfinity);
                    var closest = values.select(1, 0);
                    var closestCentre = positions.select(1, 0).add(start);
                    lower.select(1, g).index_copy_(0, part, closest);
                    groupNearest.select(1, g).index_copy_(0, part, closestCentre.to_type(ScalarType.Int32));
                    if (length > 1)
                        second.select(1, g).index_copy_(0, part, values.select(1, 1));
                    var current = nearest.index_select(0, part);
                    var closer = closest.lt(current);
                    nearest.index_copy_(0, part, where(closer, closest, current));
                    assignments.index_copy_(0, part, where(closer, closestCentre, assignments.index_select(0, part)));
                }
            }

            // The group of each point's final centre: if it was searched and that centre was its nearest, the
            // bound is the second nearest.
            var finalGroup = _groupOf.index_select(0, assignments).unsqueeze(1);
            var own = searched.gather(1, finalGroup).logical_and(groupNearest.gather(1, finalGroup).eq(assignments.unsqueeze(1)));
            lower.scatter_(1, finalGroup, where(own, second.gather(1, finalGroup), lower.gather(1, finalGroup)));
        }

        /// <summary>
        /// Lowers each point's group bounds to its exact distance to the <paramref name="movers"/> (centre indices in
        /// ascending order) of that group other than its own centre. A NaN distance counts as infinite: a centre
        /// holding NaN is never the nearest in a search either.
        /// </summary>
        private void LowerByMovers(Tensor x, Tensor squaredNorms, Tensor centres, Tensor centreNorms, Tensor movers, long chunkBytes)
        {
            using var scope = NewDisposeScope();
            long rows = x.shape[0], count = movers.shape[0];
            var moverCentresT = centres.index_select(0, movers).t();
            var moverNorms = centreNorms.index_select(0, movers);
            // The movers of each group are consecutive, as the groups are blocks of centres.
            var moverGroups = _groupOf.index_select(0, movers).cpu().data<long>().ToArray();
            var runs = new List<(int Group, long Start, long Length)>();
            for (int i = 0; i < moverGroups.Length; i++)
            {
                if (runs.Count > 0 && runs[^1].Group == moverGroups[i])
                    runs[^1] = (runs[^1].Group, runs[^1].Start, runs[^1].Length + 1);
                else
                    runs.Add(((int)moverGroups[i], i, 1));
            }

            long tileValues = TileValues(chunkBytes, count);
            var buffer = empty(tileValues, dtype: x.dtype, device: x.device);
            long chunk = tileValues / count;
            for (long offset = 0; offset < rows; offset += chunk)
            {
                using var chunkScope = NewDisposeScope();
                long size = Math.Min(chunk, rows - offset);
                var own = Assignments.narrow(0, offset, size).unsqueeze(1).eq(movers.unsqueeze(0));
                // Each group's least score is made a distance.
                var scores = buffer.narrow(0, 0, size * count).view(size, count)
                    .addmm_(x.narrow(0, offset, size), moverCentresT, beta: 0, alpha: -2).add_(moverNorms)
                    .nan_to_num_(double.PositiveInfinity).masked_fill_(own, double.PositiveInfinity);
                var rowNorms = squaredNorms.narrow(0, offset, size);
                var lower = Lower.narrow(0, offset, size);
                foreach (var (group, start, length) in runs)
                {
                    var bound = lower.select(1, group);
                    var distances = FromScores(scores.narrow(1, start, length).amin(1), rowNorms);
                    bound.copy_(minimum(bound, distances));
                }
            }
        }

        /// <summary>Each of the points <paramref name="rows"/>' distance to its centre <paramref name="owners"/>, in the same expanded form as the search, in chunks.</summary>
        private static Tensor OwnDistances(Tensor x, Tensor squaredNorms, Tensor centres, Tensor centreNorms, Tensor rows, Tensor owners, long chunkBytes)
        {
            long count = rows.shape[0], width = x.shape[1];
            var distances = empty(count, dtype: x.dtype, device: x.device);
            long chunk = Math.Clamp(Math.Min(chunkBytes, NearestNeighbours.TileBytes) / (4 * width), 1, count);
            for (long offset = 0; offset < count; offset += chunk)
            {
                using var scope = NewDisposeScope();
                long length = Math.Min(chunk, count - offset);
                var points = rows.narrow(0, offset, length);
                var centresOfPoints = owners.narrow(0, offset, length);
                var products = (x.index_select(0, points) * centres.index_select(0, centresOfPoints)).sum(1);
                var scores = centreNorms.index_select(0, centresOfPoints).add_(products, -2);
                distances.narrow(0, offset, length).copy_(FromScores(scores, squaredNorms.index_select(0, points)));
            }

            return distances;
        }

        /// <summary>
        /// Distances from scores <c>|c|² − 2x·c</c> (which rank centres as the distance does, at one matrix product and
        /// one pass per tile) and the rows' <c>|x|²</c>: <c>sqrt(|x|² + score)</c>, clamped at 0 against rounding, in
        /// place.
        /// </summary>
        private static Tensor FromScores(Tensor scores, Tensor squaredNorms) => scores.add_(squaredNorms).clamp_min_(0).sqrt_();

        /// <summary>Values in one tile: a few megabytes (at most the chunk budget), and at least one row of <paramref name="width"/>.</summary>
        private static long TileValues(long chunkBytes, long width) => Math.Max(Math.Min(chunkBytes, NearestNeighbours.TileBytes) / 4, width);
    }
}
