namespace MetricLearning.Mining;

/// <summary>
/// Which triplets <see cref="TripletMarginMiner"/> keeps, by the triplet's margin <c>μ = d(a, n) − d(a, p)</c> (for a
/// similarity <c>μ = s(a, p) − s(a, n)</c>) and the miner's margin m. pytorch-metric-learning's
/// <c>type_of_triplets</c> ("all", "hard", "semihard", "easy").
/// </summary>
public enum TripletDifficulty
{
    /// <summary>Every triplet that violates the margin: <c>μ ≤ m</c>. PML's "all", the default.</summary>
    All,

    /// <summary>Violating triplets whose negative is at least as close as the positive: <c>μ ≤ 0</c> (and <c>μ ≤ m</c>).</summary>
    Hard,

    /// <summary>Violating triplets whose negative is farther than the positive: <c>0 &lt; μ ≤ m</c>.</summary>
    SemiHard,

    /// <summary>The triplets that do not violate the margin: <c>μ &gt; m</c>.</summary>
    Easy,
}
