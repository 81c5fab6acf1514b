using System;
using System.Collections.Generic;
using System.Linq;

namespace MetricLearning.Evaluation;

/// <summary>
/// Verification metrics for pair scores: ROC AUC, equal error rate, and the thresholds that maximise accuracy or F1,
/// which is how a threshold is calibrated on held-out pairs before it is applied to new ones.
/// </summary>
/// <remarks>
/// A pair is predicted "same class" when its score is below the threshold for a distance, above it for a
/// similarity. Every distinct score is tried as a cut; thresholds are reported midway between neighbouring scores
/// (one average score gap, (max − min) / n, beyond the extreme score for the cuts that accept everything or nothing). Runs in O(n log n) on the
/// host. Stateless and thread-safe.
/// </remarks>
public static class VerificationEvaluator
{
    /// <summary>Computes the metrics.</summary>
    /// <param name="scores">One score per pair (distances, or similarities).</param>
    /// <param name="sameClass">True for a same-class pair.</param>
    /// <param name="isSimilarity">True when larger scores mean closer (see <see cref="IDistance.IsSimilarity"/>).</param>
    /// <exception cref="ArgumentException">The lengths differ, a score is not finite, or one of the two classes is absent.</exception>
    public static VerificationMetrics Evaluate(IReadOnlyList<float> scores, IReadOnlyList<bool> sameClass, bool isSimilarity = false)
    {
        var (order, positives, negatives) = Ordered(scores, sameClass, isSimilarity);

        double ToThreshold(double closeness) => isSimilarity ? closeness : -closeness;
        double step = order.Length > 1 ? Math.Max(order[0].Closeness - order[^1].Closeness, 1e-6) / order.Length : 1.0;

        // Accept-nothing cut first: no true or false accepts.
        long truePositives = 0, falsePositives = 0;
        double auc = 0;
        var best = (Accuracy: (double)negatives / order.Length, AccuracyCut: order[0].Closeness + step,
                    F1: 0.0, F1Cut: order[0].Closeness + step);
        var equalError = (Gap: double.MaxValue, Rate: 0.5, Cut: order[0].Closeness + step);
        for (int i = 0; i < order.Length;)
        {
            // Take every pair with this closeness at once (ties move together).
            int j = i;
            long tiePositives = 0, tieNegatives = 0;
            while (j < order.Length && order[j].Closeness == order[i].Closeness)
            {
                if (order[j].Same)
                    tiePositives++;
                else
                    tieNegatives++;
                j++;
            }

            // Each negative in this group is passed by the positives already accepted, and half of the tied ones.
            auc += tieNegatives * (truePositives + tiePositives / 2.0);
            truePositives += tiePositives;
            falsePositives += tieNegatives;

            double cut = j < order.Length ? (order[i].Closeness + order[j].Closeness) / 2 : order[i].Closeness - step;
            double accuracy = (double)(truePositives + negatives - falsePositives) / order.Length;
            double f1 = 2.0 * truePositives / (2.0 * truePositives + falsePositives + (positives - truePositives));
            if (accuracy > best.Accuracy)
                best = (accuracy, cut, best.F1, best.F1Cut);
            if (f1 > best.F1)
                best = (best.Accuracy, best.AccuracyCut, f1, cut);

            double falseAccept = (double)falsePositives / negatives;
            double falseReject = (double)(positives - truePositives) / positives;
            if (Math.Abs(falseAccept - falseReject) < equalError.Gap)
                equalError = (Math.Abs(falseAccept - falseReject), (falseAccept + falseReject) / 2, cut);
            i = j;
        }

        return new VerificationMetrics(
            auc / ((double)positives * negatives),
            equalError.Rate,
            ToThreshold(equalError.Cut),
            best.Accuracy,
            ToThreshold(best.AccuracyCut),
            best.F1,
            ToThreshold(best.F1Cut));
    }

    /// <summary>
    /// The ROC curve of the scores: one point per distinct score, from accepting the closest pairs only to accepting
    /// every pair, starting at (0, 0) and ending at (1, 1).
    /// </summary>
    /// <param name="scores">One score per pair (distances, or similarities).</param>
    /// <param name="sameClass">True for a same-class pair.</param>
    /// <param name="isSimilarity">True when larger scores mean closer (see <see cref="IDistance.IsSimilarity"/>).</param>
    /// <param name="maxPoints">The most points returned (evenly spaced along the curve, the ends kept); at least 2.</param>
    /// <returns>The points in order of increasing false-accept rate.</returns>
    /// <exception cref="ArgumentException">The lengths differ, a score is not finite, or one of the two classes is absent.</exception>
    public static IReadOnlyList<RocPoint> RocCurve(IReadOnlyList<float> scores, IReadOnlyList<bool> sameClass, bool isSimilarity = false, int maxPoints = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPoints, 2);
        var (order, positives, negatives) = Ordered(scores, sameClass, isSimilarity);
        var points = new List<RocPoint> { new(isSimilarity ? double.PositiveInfinity : double.NegativeInfinity, 0, 0) };
        long truePositives = 0, falsePositives = 0;
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j < order.Length && order[j].Closeness == order[i].Closeness)
            {
                if (order[j].Same)
                    truePositives++;
                else
                    falsePositives++;
                j++;
            }

            points.Add(new RocPoint(isSimilarity ? order[i].Closeness : -order[i].Closeness, (double)falsePositives / negatives, (double)truePositives / positives));
            i = j;
        }

        if (points.Count <= maxPoints)
            return points;
        var thinned = new List<RocPoint>(maxPoints);
        for (int k = 0; k < maxPoints; k++)
            thinned.Add(points[(int)Math.Round((double)k * (points.Count - 1) / (maxPoints - 1))]);
        return thinned;
    }

    /// <summary>
    /// Checks the pairs and sorts them closest first, on "closeness" (the similarity, or the negated distance) so that
    /// larger is always closer; returns them with the counts of same-class and different-class pairs.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ, a score is not finite, or one of the two classes is absent.</exception>
    private static ((double Closeness, bool Same)[] Order, int Positives, int Negatives) Ordered(IReadOnlyList<float> scores, IReadOnlyList<bool> sameClass, bool isSimilarity)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(sameClass);
        if (scores.Count != sameClass.Count)
            throw new ArgumentException($"There are {scores.Count} scores for {sameClass.Count} pairs.", nameof(sameClass));
        int positives = sameClass.Count(same => same);
        int negatives = sameClass.Count - positives;
        if (positives == 0 || negatives == 0)
            throw new ArgumentException(
                $"Verification needs both same-class and different-class pairs; there are {positives} and {negatives}.", nameof(sameClass));
        for (int i = 0; i < scores.Count; i++)
        {
            if (!float.IsFinite(scores[i]))
                throw new ArgumentException($"Score {i} is {scores[i]}; scores must be finite.", nameof(scores));
        }

        var order = Enumerable.Range(0, scores.Count)
            .Select(i => (Closeness: isSimilarity ? (double)scores[i] : -(double)scores[i], Same: sameClass[i]))
            .OrderByDescending(item => item.Closeness)
            .ToArray();
        return (order, positives, negatives);
    }
}
