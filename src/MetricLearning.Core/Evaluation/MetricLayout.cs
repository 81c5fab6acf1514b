using System;
using System.Collections.Generic;
using System.Linq;

namespace MetricLearning.Evaluation;

/// <summary>
/// The per-query metric columns an evaluation computes (precision@1, R-precision, MAP@R, then precision@k for each k
/// asked, then MAP and MRR when asked), and how they are summarised: over queries, over classes, per class.
/// </summary>
internal sealed class MetricLayout
{
    private readonly RetrievalEvaluationOptions _options;

    internal MetricLayout(RetrievalEvaluationOptions options, long available)
    {
        _options = options;
        foreach (int k in options.PrecisionAtK)
        {
            if (k > available)
                throw new ArgumentException($"Precision@{k} needs {k} neighbours per query, but there are only {available} references to rank.", nameof(options));
        }

        Depth = options.MeanAveragePrecision ? (int)Math.Min(options.Depth ?? available, available) : 0;
        Neighbours = Math.Max(Depth, options.PrecisionAtK.Count == 0 ? 1 : options.PrecisionAtK.Max());
        Columns = 3 + options.PrecisionAtK.Count + (options.MeanAveragePrecision ? 2 : 0);
    }

    /// <summary>How many neighbours MAP and MRR look at; 0 when not asked.</summary>
    internal int Depth { get; }

    /// <summary>The most neighbours any asked metric needs (R aside).</summary>
    internal int Neighbours { get; }

    /// <summary>Values per query.</summary>
    internal int Columns { get; }

    /// <summary>The metrics from per-query values (row-major, <see cref="Columns"/> per query), over the queries with R above 0.</summary>
    internal RetrievalMetrics Summarize(double[] values, long[] r, IReadOnlyList<int> labels, Func<(double Nmi, double Ami)>? clustering)
    {
        var evaluated = Enumerable.Range(0, r.Length).Where(q => r[q] > 0).ToArray();
        var overall = Mean(values, evaluated);
        if (clustering is not null)
        {
            var (nmi, ami) = clustering();
            overall = overall with { Nmi = nmi, Ami = ami };
        }

        if (!_options.PerClass)
            return overall;
        var perClass = evaluated.GroupBy(q => labels[q]).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => Mean(values, g.ToArray()));
        var classMeans = new double[perClass.Count * Columns];
        int c = 0;
        foreach (var metrics in perClass.Values)
            RowOf(metrics).CopyTo(classMeans, Columns * c++);
        var classAverage = Mean(classMeans, Enumerable.Range(0, perClass.Count).ToArray());
        return overall with { ClassAverage = classAverage, PerClass = perClass };
    }

    /// <summary>The mean of each column over the given rows, as metrics.</summary>
    private RetrievalMetrics Mean(double[] values, int[] rows)
    {
        var sums = new double[Columns];
        foreach (int q in rows)
        {
            for (int column = 0; column < Columns; column++)
                sums[column] += values[q * Columns + column];
        }

        for (int column = 0; column < Columns; column++)
            sums[column] /= rows.Length;
        var precisionAtK = new Dictionary<int, double>();
        for (int j = 0; j < _options.PrecisionAtK.Count; j++)
            precisionAtK[_options.PrecisionAtK[j]] = sums[3 + j];
        int map = 3 + _options.PrecisionAtK.Count;
        return new RetrievalMetrics(sums[0], sums[1], sums[2], rows.Length)
        {
            PrecisionAtK = precisionAtK,
            MeanAveragePrecision = _options.MeanAveragePrecision ? sums[map] : null,
            MeanReciprocalRank = _options.MeanAveragePrecision ? sums[map + 1] : null,
        };
    }

    /// <summary>The columns of one summary, in layout order.</summary>
    private double[] RowOf(RetrievalMetrics metrics)
    {
        var row = new List<double> { metrics.PrecisionAt1, metrics.RPrecision, metrics.MapAtR };
        row.AddRange(_options.PrecisionAtK.Select(k => metrics.PrecisionAtK[k]));
        if (_options.MeanAveragePrecision)
        {
            row.Add(metrics.MeanAveragePrecision!.Value);
            row.Add(metrics.MeanReciprocalRank!.Value);
        }

        return row.ToArray();
    }
}
