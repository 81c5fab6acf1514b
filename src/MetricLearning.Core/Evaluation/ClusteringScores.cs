using System;
using System.Collections.Generic;
using System.Linq;

namespace MetricLearning.Evaluation;

/// <summary>
/// How well a clustering agrees with the true classes: normalised and adjusted mutual information, computed as
/// scikit-learn's <c>normalized_mutual_info_score</c> and <c>adjusted_mutual_info_score</c> compute them (arithmetic
/// mean of the two entropies as the normaliser; natural logarithms), which pytorch-metric-learning's
/// <c>AccuracyCalculator</c> reports as NMI and AMI.
/// </summary>
/// <remarks>
/// Both are 1 when the clustering is the classes up to renaming. NMI is 0 for independent labellings but rises with the
/// number of clusters by chance; AMI subtracts the mutual information expected by chance (Vinh, Epps and Bailey, JMLR
/// 2010), so it is about 0 for a random clustering. AMI costs about
/// <c>classes × clusters × (smaller group size)</c> steps, for example a second for 12,000 classes of 5 against 12,000
/// clusters. Stateless and thread-safe.
/// </remarks>
public static class ClusteringScores
{
    /// <summary>Normalised mutual information of two labellings of the same items.</summary>
    /// <param name="classes">The true class of each item.</param>
    /// <param name="clusters">The cluster of each item.</param>
    /// <returns>In [0, 1]; 1 when both labellings put everything in one group.</returns>
    /// <exception cref="ArgumentException">The labellings differ in length.</exception>
    public static double NormalizedMutualInformation(IReadOnlyList<int> classes, IReadOnlyList<int> clusters)
    {
        var table = Contingency.Of(classes, clusters);
        if (table.RowTotals.Length == table.ColumnTotals.Length && table.RowTotals.Length <= 1)
            return 1.0;
        double mi = table.MutualInformation();
        if (mi == 0)
            return 0.0;
        return mi / ((Entropy(table.RowTotals) + Entropy(table.ColumnTotals)) / 2);
    }

    /// <summary>Mutual information adjusted for chance of two labellings of the same items.</summary>
    /// <param name="classes">The true class of each item.</param>
    /// <param name="clusters">The cluster of each item.</param>
    /// <returns>At most 1, about 0 for a random clustering, negative when worse than chance; 1 when both put everything in one group.</returns>
    /// <exception cref="ArgumentException">The labellings differ in length.</exception>
    public static double AdjustedMutualInformation(IReadOnlyList<int> classes, IReadOnlyList<int> clusters)
    {
        var table = Contingency.Of(classes, clusters);
        if (table.RowTotals.Length == table.ColumnTotals.Length && table.RowTotals.Length <= 1)
            return 1.0;
        double mi = table.MutualInformation();
        double expected = table.ExpectedMutualInformation();
        double normalizer = (Entropy(table.RowTotals) + Entropy(table.ColumnTotals)) / 2;
        double denominator = normalizer - expected;
        // As scikit-learn: keep the sign, avoid 0/0 when the expectation equals the maximum (a perfect match).
        const double MachineEpsilon = 2.220446049250313E-16;
        denominator = denominator < 0 ? Math.Min(denominator, -MachineEpsilon) : Math.Max(denominator, MachineEpsilon);
        return (mi - expected) / denominator;
    }

    /// <summary>The entropy (nats) of a labelling given its group sizes.</summary>
    private static double Entropy(long[] sizes)
    {
        var present = sizes.Where(size => size > 0).ToArray();
        if (present.Length <= 1)
            return 0.0;
        double total = present.Sum();
        double logTotal = Math.Log(total);
        return -present.Sum(size => size / total * (Math.Log(size) - logTotal));
    }

    /// <summary>The contingency table of two labellings: counts of items per (class, cluster), and the totals.</summary>
    private sealed class Contingency
    {
        private Contingency(Dictionary<(int Row, int Column), long> cells, long[] rowTotals, long[] columnTotals, long total)
        {
            Cells = cells;
            RowTotals = rowTotals;
            ColumnTotals = columnTotals;
            Total = total;
        }

        internal Dictionary<(int Row, int Column), long> Cells { get; }

        internal long[] RowTotals { get; }

        internal long[] ColumnTotals { get; }

        internal long Total { get; }

        internal static Contingency Of(IReadOnlyList<int> classes, IReadOnlyList<int> clusters)
        {
            ArgumentNullException.ThrowIfNull(classes);
            ArgumentNullException.ThrowIfNull(clusters);
            if (classes.Count != clusters.Count)
                throw new ArgumentException($"There are {classes.Count} classes for {clusters.Count} cluster assignments; both label the same items.", nameof(clusters));
            var rows = classes.Distinct().OrderBy(c => c).Select((label, i) => (label, i)).ToDictionary(p => p.label, p => p.i);
            var columns = clusters.Distinct().OrderBy(c => c).Select((label, i) => (label, i)).ToDictionary(p => p.label, p => p.i);
            var cells = new Dictionary<(int, int), long>();
            var rowTotals = new long[rows.Count];
            var columnTotals = new long[columns.Count];
            for (int i = 0; i < classes.Count; i++)
            {
                int row = rows[classes[i]], column = columns[clusters[i]];
                cells[(row, column)] = cells.GetValueOrDefault((row, column)) + 1;
                rowTotals[row]++;
                columnTotals[column]++;
            }

            return new Contingency(cells, rowTotals, columnTotals, classes.Count);
        }

        /// <summary>Mutual information (nats), as scikit-learn's <c>mutual_info_score</c> sums it over the non-zero cells.</summary>
        internal double MutualInformation()
        {
            if (RowTotals.Length == 1 || ColumnTotals.Length == 1)
                return 0.0;
            double total = Total;
            double logTotal = Math.Log(total);
            double sum = 0;
            foreach (var ((row, column), count) in Cells)
            {
                double share = count / total;
                double logOuter = -Math.Log((double)RowTotals[row] * ColumnTotals[column]) + logTotal + logTotal;
                double term = share * (Math.Log(count) - logTotal) + share * logOuter;
                if (Math.Abs(term) >= 2.220446049250313E-16) // scikit-learn drops terms below machine epsilon
                    sum += term;
            }

            return Math.Max(sum, 0.0);
        }

        /// <summary>
        /// The mutual information expected between random labellings with these group sizes (the hypergeometric model
        /// of Vinh et al.), summed as scikit-learn's <c>expected_mutual_information</c> does.
        /// </summary>
        internal double ExpectedMutualInformation()
        {
            long n = Total;
            var logFactorial = LogFactorials(n);
            double logN = Math.Log(n);
            double expected = 0;
            foreach (long a in RowTotals)
            {
                foreach (long b in ColumnTotals)
                {
                    long start = Math.Max(1, a - n + b);
                    long end = Math.Min(a, b);
                    // The hypergeometric weight's constant part: a! b! (N − a)! (N − b)! / N!.
                    double constant = logFactorial[a] + logFactorial[b] + logFactorial[n - a] + logFactorial[n - b] - logFactorial[n];
                    double logAB = Math.Log(a) + Math.Log(b);
                    for (long nij = start; nij <= end; nij++)
                    {
                        double logWeight = constant - logFactorial[nij] - logFactorial[a - nij] - logFactorial[b - nij] - logFactorial[n - a - b + nij];
                        expected += nij / (double)n * (logN + Math.Log(nij) - logAB) * Math.Exp(logWeight);
                    }
                }
            }

            return expected;
        }

        /// <summary>log(k!) for k from 0 to n, summed with compensation so that large k keep their precision.</summary>
        private static double[] LogFactorials(long n)
        {
            var table = new double[n + 1];
            double sum = 0, compensation = 0;
            for (long k = 1; k <= n; k++)
            {
                double y = Math.Log(k) - compensation;
                double t = sum + y;
                compensation = t - sum - y;
                sum = t;
                table[k] = sum;
            }

            return table;
        }
    }
}
