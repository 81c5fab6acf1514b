using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using MetricLearning.Evaluation;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Evaluation;

public sealed class KMeansTests
{
    private static (double[][] Points, Tensor Tensor) RandomPoints(int count, int width, int seed)
    {
        var random = new Random(seed);
        var points = Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, width).Select(_ => random.NextDouble() * 10).ToArray()).ToArray();
        return (points, tensor(points.SelectMany(p => p.Select(v => (float)v)).ToArray(), new long[] { count, width }));
    }

    private static double Squared(double[] a, double[] b) => a.Zip(b, (x, y) => (x - y) * (x - y)).Sum();

    [Fact]
    public void Separated_blobs_are_found_and_the_inertia_is_their_spread_about_their_means()
    {
        // Three blobs of four points each, 100 apart: any sensible clustering is the blobs.
        var offsets = new[] { new[] { 0.0, 0 }, new[] { 1.0, 0 }, new[] { 0.0, 1 }, new[] { 1.0, 1 } };
        var points = new[] { 0.0, 100, 200 }.SelectMany(centre => offsets.Select(o => new[] { centre + o[0], o[1] })).ToArray();
        using var input = tensor(points.SelectMany(p => p.Select(v => (float)v)).ToArray(), new long[] { 12, 2 });

        var (assignments, inertia) = KMeans.Fit(input, 3, seed: 1, iterations: 10, restarts: 3);

        for (int blob = 0; blob < 3; blob++)
            assignments.Skip(4 * blob).Take(4).Distinct().Should().ContainSingle($"blob {blob} is one cluster");
        assignments.Distinct().Should().HaveCount(3);
        // Each blob's points are 0.5 from its mean on each axis: 4 points x 0.5 per blob.
        inertia.Should().BeApproximately(3 * 4 * 0.5, 1e-3);
    }

    [Theory]
    [InlineData(1L << 26)]
    [InlineData(16L)] // tiles of one point against 4 of the 7 centres
    public void At_convergence_each_point_is_nearest_the_mean_of_its_own_cluster(long chunkBytes)
    {
        var (points, input) = RandomPoints(300, 3, seed: 2);
        using var _ = input;

        var (assignments, inertia) = KMeans.Fit(input, 7, seed: 3, iterations: 200, chunkBytes: chunkBytes);

        // Worked out here in double precision from the assignments alone.
        var means = Enumerable.Range(0, 7).Select(c =>
        {
            var members = points.Where((_, i) => assignments[i] == c).ToArray();
            return Enumerable.Range(0, 3).Select(j => members.Average(p => p[j])).ToArray();
        }).ToArray();
        for (int i = 0; i < points.Length; i++)
        {
            double own = Squared(points[i], means[assignments[i]]);
            means.Min(m => Squared(points[i], m)).Should().BeApproximately(own, 1e-3, $"point {i} is nearest its own cluster's mean");
        }

        inertia.Should().BeApproximately(points.Select((p, i) => Squared(p, means[assignments[i]])).Sum(), 1e-2);
    }

    [Theory]
    [InlineData(1, 256)]
    [InlineData(3, 256)]
    [InlineData(40, 256)]
    [InlineData(1, 3)]
    [InlineData(3, 3)]
    [InlineData(40, 3)]
    [InlineData(40, 5)]
    [InlineData(40, 1)]
    [InlineData(40, 5, 800, 64)]
    public void Each_iteration_assigns_what_Lloyds_algorithm_worked_out_in_double_precision_assigns(int iterations, int centresPerGroup, int rows = 400, int clusters = 12)
    {
        var (points, input) = RandomPoints(rows, 5, seed: 9);
        using var _ = input;
        const long Seed = 10;

        // 16 bytes: tiles of one point against 4 centres, so the nearest two are merged across three blocks.
        // centresPerGroup below the clusters splits the centres into groups with a lower bound each (3 gives 4 groups,
        // 5 groups of uneven sizes, 1 a bound per centre); 256 keeps one group. 64 clusters have 4 movers (the
        // sixteenth that moved most) an iteration, several of them in one group at times.
        var (assignments, _, _) = KMeans.FitRuns(input, clusters, seed: Seed, iterations: iterations, restarts: 1, chunkBytes: 16, iterationDone: null, centresPerGroup);

        // The same first centres (distinct rows drawn by torch's randperm from a generator of the seed), then
        // Lloyd's iterations in plain double-precision loops: assign to the nearest, move to the mean, keep empty.
        using var generator = new TorchSharp.torch.Generator((ulong)Seed);
        using var draw = randperm(rows, generator: generator);
        var firstRows = draw.data<long>().Take(clusters).ToArray();
        var centres = firstRows.Select(row => (double[])points[row].Clone()).ToArray();
        int Nearest(double[] point) => Enumerable.Range(0, clusters).MinBy(c => Squared(point, centres[c]));
        var expected = points.Select(Nearest).ToArray();
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            for (int c = 0; c < clusters; c++)
            {
                var members = points.Where((_, i) => expected[i] == c).ToArray();
                if (members.Length > 0)
                    centres[c] = Enumerable.Range(0, 5).Select(j => members.Average(p => p[j])).ToArray();
            }

            expected = points.Select(Nearest).ToArray();
        }

        assignments.Should().Equal(expected);
    }

    [Theory]
    [InlineData(256)]
    [InlineData(2)]
    public void Stopping_at_a_fixed_point_gives_what_running_every_iteration_gives(int centresPerGroup)
    {
        var (_, input) = RandomPoints(300, 3, seed: 7);
        using var _ = input;

        var converged = KMeans.FitRuns(input, 6, seed: 8, iterations: 60, restarts: 1, chunkBytes: 1 << 20, iterationDone: null, centresPerGroup);
        var longer = KMeans.FitRuns(input, 6, seed: 8, iterations: 600, restarts: 1, chunkBytes: 1 << 20, iterationDone: null, centresPerGroup);

        converged.Iterations.Should().BeLessThan(60, "the run reaches a fixed point and stops there");
        longer.Iterations.Should().Be(converged.Iterations);
        longer.Assignments.Should().Equal(converged.Assignments);
        longer.Inertia.Should().Be(converged.Inertia);
        // What it stopped at is a fixed point: one more iteration from there changes nothing.
        var oneMore = KMeans.FitRuns(input, 6, seed: 8, iterations: converged.Iterations + 1, restarts: 1, chunkBytes: 1 << 20, iterationDone: null, centresPerGroup);
        oneMore.Assignments.Should().Equal(converged.Assignments);
    }

    [Fact]
    public void A_seed_gives_the_same_clustering_and_restarts_never_do_worse()
    {
        var (_, input) = RandomPoints(200, 4, seed: 4);
        using var __ = input;

        var first = KMeans.Fit(input, 9, seed: 5, iterations: 5);
        var again = KMeans.Fit(input, 9, seed: 5, iterations: 5);
        var restarted = KMeans.Fit(input, 9, seed: 5, iterations: 5, restarts: 4);

        again.Assignments.Should().Equal(first.Assignments);
        again.Inertia.Should().Be(first.Inertia);
        // The first of the four runs draws as the single run does; the best of four is no worse.
        restarted.Inertia.Should().BeLessThanOrEqualTo(first.Inertia);
    }

    [Theory]
    [InlineData(256)]
    [InlineData(2)]
    public void A_point_holding_NaN_gives_NaN_inertia_and_the_other_points_are_still_clustered(int centresPerGroup)
    {
        var (points, clean) = RandomPoints(200, 3, seed: 11);
        using var _ = clean;
        using var nan = full(1, 3, float.NaN);
        using var input = cat(new[] { clean, nan });

        var (assignments, inertia, _) = KMeans.FitRuns(input, 5, seed: 12, iterations: 100, restarts: 2, RetrievalEvaluator.DefaultChunkBytes, iterationDone: null, centresPerGroup);

        assignments.Should().HaveCount(201).And.OnlyContain(c => c >= 0 && c < 5);
        double.IsNaN(inertia).Should().BeTrue();
        // The numbers still converge: each is nearest the mean of its own cluster's numbers.
        var means = Enumerable.Range(0, 5).Select(c => points.Where((_, i) => assignments[i] == c).ToArray())
            .Select(members => members.Length == 0 ? null : Enumerable.Range(0, 3).Select(j => members.Average(p => p[j])).ToArray()).ToArray();
        for (int i = 0; i < points.Length; i++)
        {
            double own = Squared(points[i], means[assignments[i]]!);
            means.Where(m => m is not null).Min(m => Squared(points[i], m!)).Should().BeApproximately(own, 1e-3, $"point {i}");
        }
    }

    [Fact]
    public void Bad_arguments_are_refused_by_name()
    {
        using var points = randn(5, 2);
        using var integers = ones(5, 2, dtype: ScalarType.Int32);
        using var line = randn(5);

        ((Action)(() => KMeans.Fit(points, 6))).Should().Throw<ArgumentException>().WithParameterName("points").WithMessage("*6 clusters*5*");
        ((Action)(() => KMeans.Fit(points, 0))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("clusters");
        ((Action)(() => KMeans.Fit(points, 2, iterations: 0))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("iterations");
        ((Action)(() => KMeans.Fit(points, 2, restarts: 0))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("restarts");
        ((Action)(() => KMeans.Fit(points, 2, chunkBytes: 0))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("chunkBytes");
        ((Action)(() => KMeans.Fit(integers, 2))).Should().Throw<ArgumentException>().WithParameterName("points");
        ((Action)(() => KMeans.Fit(line, 2))).Should().Throw<ArgumentException>().WithParameterName("points");
    }

    [Fact]
    public void An_evaluation_reports_its_queries_and_its_k_means_iterations_as_they_are_done()
    {
        var (_, points) = RandomPoints(40, 3, seed: 6);
        using var _ = points;
        var labels = Enumerable.Range(0, 40).Select(i => i % 4).ToArray();
        var reports = new RecordingProgress();

        RetrievalEvaluator.Evaluate(points, labels, points, labels, new MetricLearning.Distances.EuclideanDistance(), queriesAreReferences: true,
            chunkBytes: 4 * 40 * 8, options: new RetrievalEvaluationOptions { Clustering = true, ClusteringIterations = 3, ClusteringRestarts = 2, Progress = reports });

        var neighbours = reports.Reports.Where(r => r.Stage == EvaluationStage.Neighbours).ToArray();
        neighbours.Should().HaveCountGreaterThan(1, "a small chunk budget splits the queries").And.OnlyContain(r => r.Total == 40);
        neighbours.Select(r => r.Completed).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems().And.EndWith(40);
        // One report per iteration; a run that reaches a fixed point early jumps to its last.
        var clustering = reports.Reports.Where(r => r.Stage == EvaluationStage.Clustering).ToArray();
        clustering.Should().OnlyContain(r => r.Total == 6).And.Contain(r => r.Completed == 3);
        clustering.Select(r => r.Completed).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems().And.StartWith(1).And.EndWith(6);
    }

    /// <summary>Records reports on the calling thread (Progress&lt;T&gt; would post them elsewhere).</summary>
    private sealed class RecordingProgress : IProgress<EvaluationProgress>
    {
        public List<EvaluationProgress> Reports { get; } = new();

        public void Report(EvaluationProgress value) => Reports.Add(value);
    }
}
