namespace MetricLearning.Evaluation;

/// <summary>How well a score (a distance or a similarity) separates same-class pairs from different-class pairs.</summary>
/// <param name="RocAuc">
/// Area under the ROC curve: the probability that a random same-class pair scores closer than a random
/// different-class pair (ties count one half). 1 is perfect, 0.5 is chance.
/// </param>
/// <param name="EqualErrorRate">The error rate where the false-accept and false-reject rates are equal (their mean at the closest point).</param>
/// <param name="EqualErrorThreshold">The threshold at which <see cref="EqualErrorRate"/> is reached.</param>
/// <param name="BestAccuracy">The highest pair accuracy any threshold reaches on these pairs.</param>
/// <param name="BestAccuracyThreshold">A threshold reaching <see cref="BestAccuracy"/> (midway between neighbouring scores).</param>
/// <param name="BestF1">The highest F1 score (same class as the positive class) any threshold reaches.</param>
/// <param name="BestF1Threshold">A threshold reaching <see cref="BestF1"/>.</param>
public sealed record VerificationMetrics(
    double RocAuc,
    double EqualErrorRate,
    double EqualErrorThreshold,
    double BestAccuracy,
    double BestAccuracyThreshold,
    double BestF1,
    double BestF1Threshold);
