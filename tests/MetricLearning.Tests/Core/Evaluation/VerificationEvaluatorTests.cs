using System;
using System.Linq;
using FluentAssertions;
using MetricLearning.Evaluation;
using Xunit;

namespace MetricLearning.Tests.Core.Evaluation;

public sealed class VerificationEvaluatorTests
{
    // Distances 0.1 S, 0.2 S, 0.3 D, 0.4 S, 0.6 D, 0.8 D (S = same class), worked out by hand:
    //   AUC: the negatives at 0.3, 0.6, 0.8 are farther than 2, 3 and 3 of the 3 positives -> 8/9.
    //   accepting up to 0.2 (threshold 0.25): 2 TP, 0 FP -> accuracy 5/6, the best (0.4 ties it later).
    //   accepting up to 0.4 (threshold 0.5): 3 TP, 1 FP -> F1 = 6/7, the best.
    //   accepting up to 0.3 (threshold 0.35): FAR 1/3 = FRR 1/3 -> EER 1/3.
    private static readonly float[] Distances = { 0.1f, 0.2f, 0.3f, 0.4f, 0.6f, 0.8f };
    private static readonly bool[] Same = { true, true, false, true, false, false };

    [Fact]
    public void Distances_give_the_values_worked_out_by_hand()
    {
        var metrics = VerificationEvaluator.Evaluate(Distances, Same);

        metrics.RocAuc.Should().BeApproximately(8.0 / 9, 1e-9);
        metrics.BestAccuracy.Should().BeApproximately(5.0 / 6, 1e-9);
        metrics.BestAccuracyThreshold.Should().BeApproximately(0.25, 1e-6);
        metrics.BestF1.Should().BeApproximately(6.0 / 7, 1e-9);
        metrics.BestF1Threshold.Should().BeApproximately(0.5, 1e-6);
        metrics.EqualErrorRate.Should().BeApproximately(1.0 / 3, 1e-9);
        metrics.EqualErrorThreshold.Should().BeApproximately(0.35, 1e-6);
    }

    [Fact]
    public void Similarities_mirror_distances()
    {
        var metrics = VerificationEvaluator.Evaluate(Distances.Select(d => -d).ToArray(), Same, isSimilarity: true);

        metrics.RocAuc.Should().BeApproximately(8.0 / 9, 1e-9);
        metrics.BestAccuracyThreshold.Should().BeApproximately(-0.25, 1e-6);
        metrics.BestF1Threshold.Should().BeApproximately(-0.5, 1e-6);
    }

    [Fact]
    public void Scores_that_cannot_tell_pairs_apart_give_chance()
    {
        var metrics = VerificationEvaluator.Evaluate(new[] { 1f, 1f, 1f, 1f }, new[] { true, false, true, false });

        metrics.RocAuc.Should().Be(0.5);
        metrics.BestAccuracy.Should().Be(0.5);
    }

    [Fact]
    public void Perfectly_separated_pairs_give_a_threshold_between_the_groups()
    {
        var metrics = VerificationEvaluator.Evaluate(new[] { 0.2f, 0.3f, 0.7f, 0.9f }, new[] { true, true, false, false });

        metrics.RocAuc.Should().Be(1);
        metrics.BestAccuracy.Should().Be(1);
        metrics.BestAccuracyThreshold.Should().BeApproximately(0.5, 1e-6);
        metrics.EqualErrorRate.Should().Be(0);
    }

    [Fact]
    public void One_class_only_is_refused()
    {
        var act = () => VerificationEvaluator.Evaluate(new[] { 0.1f, 0.2f }, new[] { true, true });

        act.Should().Throw<ArgumentException>().WithMessage("*2 and 0*");
    }

    [Fact]
    public void A_score_that_is_not_finite_is_refused()
    {
        var act = () => VerificationEvaluator.Evaluate(new[] { 0.1f, float.NaN }, new[] { true, false });

        act.Should().Throw<ArgumentException>().WithMessage("*Score 1 is NaN*");
    }
}
