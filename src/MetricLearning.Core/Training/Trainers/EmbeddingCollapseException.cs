using System;
using System.Collections.Generic;

namespace MetricLearning.Training;

/// <summary>
/// Thrown by <see cref="EmbeddingTrainer"/> when the embeddings have collapsed: they all point the same way, every
/// pair is equally close, and the loss sits where its gradient no longer separates the classes.
/// </summary>
public sealed class EmbeddingCollapseException : Exception
{
    /// <summary>Creates the exception for the epoch where the collapse was seen.</summary>
    /// <param name="reports">The epochs trained, the collapsed one last.</param>
    /// <param name="threshold">The spread below which training stops.</param>
    public EmbeddingCollapseException(IReadOnlyList<EmbeddingEpochReport> reports, double threshold)
        : base(Describe(reports, threshold)) => Reports = reports;

    /// <summary>The epochs trained, the collapsed one last.</summary>
    public IReadOnlyList<EmbeddingEpochReport> Reports { get; }

    private static string Describe(IReadOnlyList<EmbeddingEpochReport> reports, double threshold)
    {
        ArgumentNullException.ThrowIfNull(reports);
        var last = reports.Count > 0 ? reports[^1] : throw new ArgumentException("At least one epoch report is needed.", nameof(reports));
        return FormattableString.Invariant(
            $"The embeddings collapsed at epoch {last.Epoch}: their spread is {last.Spread:G3}, below {threshold:G3} (loss {last.Loss:G4}). ") +
            (last.Mined
                ? "Hard-example miners can pull randomly initialised embeddings to one point; train some epochs without the miner first (EmbeddingTrainerOptions.MinerWarmupEpochs), use a gentler miner (SemiHardMiner), or lower the learning rate."
                : "Lower the learning rate, or check that the labels are not all the same.") +
            " If the embeddings are meant to share one direction, set EmbeddingTrainerOptions.CollapseSpread to 0.";
    }
}
