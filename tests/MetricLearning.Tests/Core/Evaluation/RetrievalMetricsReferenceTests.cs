using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Evaluation;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Evaluation;

/// <summary>
/// Retrieval metrics against pytorch-metric-learning 2.8.1's AccuracyCalculator (given a torch k-NN on the Euclidean
/// distance), and NMI and AMI against scikit-learn's scores on fixed cluster assignments: the expected values in
/// Core/Losses/Fixtures/pml-2.8.1-metrics.json come from tests/pml-reference/generate_metrics.py. Each k-NN metric is
/// compared over queries and averaged over classes, on a set of separate queries (one query class the references
/// lack) and on one where the queries are the references, with PML's k set to every reference, to R and to 5.
/// </summary>
public sealed class RetrievalMetricsReferenceTests
{
    private static readonly JsonElement Fixture = PmlFixture.Load("pml-2.8.1-metrics.json");

    public static IEnumerable<object[]> RetrievalCases() => Fixture.GetProperty("retrieval").EnumerateArray()
        .Select((entry, i) => new object[] { i, $"{entry.GetProperty("input").GetString()} with k {entry.GetProperty("k").GetString()}" });

    public static IEnumerable<object[]> ClusteringCases() => Fixture.GetProperty("clustering").EnumerateArray()
        .Select((entry, i) => new object[] { i, entry.GetProperty("input").GetString()! });

    private static int[] Ints(JsonElement array) => array.EnumerateArray().Select(v => v.GetInt32()).ToArray();

    private static void Close(double? actual, JsonElement expected, string what)
    {
        actual.Should().NotBeNull(what);
        PmlFixture.ShouldBeClose(actual!.Value, expected.GetDouble(), what);
    }

    [Theory]
    [MemberData(nameof(RetrievalCases))]
    public void Retrieval_metrics_equal_PMLs_accuracy_calculator(int index, string description)
    {
        var entry = Fixture.GetProperty("retrieval")[index];
        using var queries = PmlFixture.Matrix(entry.GetProperty("queries")).to_type(ScalarType.Float32);
        using var references = PmlFixture.Matrix(entry.GetProperty("references")).to_type(ScalarType.Float32);
        var options = new RetrievalEvaluationOptions
        {
            PrecisionAtK = new[] { 1, 3, 10 },
            MeanAveragePrecision = true,
            Depth = entry.GetProperty("depth").GetInt32(),
            PerClass = true,
        };
        var metrics = RetrievalEvaluator.Evaluate(queries, Ints(entry.GetProperty("query_labels")), references, Ints(entry.GetProperty("reference_labels")),
            new EuclideanDistance(), entry.GetProperty("same").GetBoolean(), options: options);

        foreach (var (ours, section) in new[] { (metrics, "over_queries"), (metrics.ClassAverage!, "class_average") })
        {
            var expected = entry.GetProperty(section);
            string what = $"{description}, {section}";
            Close(ours.PrecisionAt1, expected.GetProperty("precision_at_1"), $"{what}: precision@1");
            Close(ours.MeanAveragePrecision, expected.GetProperty("mean_average_precision"), $"{what}: MAP at depth {options.Depth}");
            Close(ours.MeanReciprocalRank, expected.GetProperty("mean_reciprocal_rank"), $"{what}: MRR");
            if (entry.GetProperty("exact_r").GetBoolean())
            {
                Close(ours.RPrecision, expected.GetProperty("r_precision"), $"{what}: R-precision");
                Close(ours.MapAtR, expected.GetProperty("mean_average_precision_at_r"), $"{what}: MAP@R");
            }
        }

        foreach (var depth in new[] { 1, 3, 10 })
            Close(metrics.PrecisionAtK[depth], entry.GetProperty("precision_at_k").GetProperty(depth.ToString()), $"{description}: precision@{depth}");
    }

    [Theory]
    [MemberData(nameof(ClusteringCases))]
    public void NMI_and_AMI_equal_scikit_learns(int index, string description)
    {
        var entry = Fixture.GetProperty("clustering")[index];
        var classes = Ints(entry.GetProperty("classes"));
        var clusters = Ints(entry.GetProperty("clusters"));
        PmlFixture.ShouldBeClose(ClusteringScores.NormalizedMutualInformation(classes, clusters), entry.GetProperty("nmi").GetDouble(), $"{description}: NMI");
        // AMI of a labelling no better than chance is about 0 (scikit-learn's -1.1e-13 for singletons): compare absolutely there.
        double expectedAmi = entry.GetProperty("ami").GetDouble();
        ClusteringScores.AdjustedMutualInformation(classes, clusters).Should().BeApproximately(expectedAmi, 1e-9 + 1e-5 * System.Math.Abs(expectedAmi), $"{description}: AMI");
    }
}
