using System.Collections.Generic;

namespace MetricLearning;

/// <summary>
/// Chooses which pairs of a labelled set to learn from, as index pairs into that set (never copies of inputs).
/// </summary>
/// <remarks>
/// Implementations are deterministic for a given seed and label list. An instance may keep a random state,
/// so it is not thread-safe; create one per thread.
/// </remarks>
public interface IPairSampler
{
    /// <summary>Builds pairs over a labelled set.</summary>
    /// <param name="labels">The class label of each sample; sample i has label <c>labels[i]</c>.</param>
    /// <returns>Index pairs into <paramref name="labels"/> with their same-class flags.</returns>
    PairSet Sample(IReadOnlyList<int> labels);
}
