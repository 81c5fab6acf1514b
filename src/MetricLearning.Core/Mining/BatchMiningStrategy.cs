namespace MetricLearning.Mining;

/// <summary>
/// How <see cref="BatchEasyHardMiner"/> picks, for each anchor, its positive or its negative: pytorch-metric-learning's
/// <c>pos_strategy</c> and <c>neg_strategy</c> ("easy", "semihard", "hard", "all").
/// </summary>
public enum BatchMiningStrategy
{
    /// <summary>The easiest: the closest positive, or the farthest negative.</summary>
    Easy,

    /// <summary>
    /// The hardest that is still on the right side of the other kind's pick: the farthest positive closer than the
    /// anchor's picked negative, or the closest negative farther than the anchor's picked positive.
    /// </summary>
    SemiHard,

    /// <summary>The hardest: the farthest positive, or the closest negative.</summary>
    Hard,

    /// <summary>Every pair of that kind, not one per anchor.</summary>
    All,
}
