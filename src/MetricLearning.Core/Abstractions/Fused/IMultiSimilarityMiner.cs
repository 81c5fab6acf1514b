namespace MetricLearning;

/// <summary>
/// A miner that keeps the pairs the multi-similarity rule keeps (Wang et al., 2019): a positive pair when it is less
/// similar than the anchor's most similar negative plus <see cref="Epsilon"/>, a negative pair when it is more similar
/// than the anchor's least similar positive minus <see cref="Epsilon"/>. A fused multi-similarity loss applies this
/// rule inside its own pass instead of calling the miner (losses and miners do not know each other's types, so the
/// rule is stated here).
/// </summary>
public interface IMultiSimilarityMiner : IMiner
{
    /// <summary>The similarity the rule compares with.</summary>
    IDistance Distance { get; }

    /// <summary>The rule's margin.</summary>
    double Epsilon { get; }
}
