namespace MetricLearning;

/// <summary>
/// What each value of a loss's <see cref="LossTerms"/> belongs to, which says how a reducer (<see cref="IReducer"/>)
/// may group or weight it. The kinds are pytorch-metric-learning's reduction types.
/// </summary>
public enum LossTermKind
{
    /// <summary>One value per batch row (an anchor or a sample); <see cref="LossTerms.Anchors"/> are the rows.</summary>
    Element,

    /// <summary>One value per same-class pair; <see cref="LossTerms.Anchors"/> are the pairs' first rows.</summary>
    PositivePair,

    /// <summary>One value per different-class pair; <see cref="LossTerms.Anchors"/> are the pairs' first rows.</summary>
    NegativePair,

    /// <summary>One value per (anchor, positive, negative) triplet; <see cref="LossTerms.Anchors"/> are the anchors.</summary>
    Triplet,

    /// <summary>
    /// One value per class, for losses that compare the batch with one learnt vector per class (Proxy-Anchor's
    /// proxies); <see cref="LossTerms.Anchors"/> are the class numbers, not batch rows.
    /// </summary>
    Class,

    /// <summary>Already one number (a 0-d <see cref="LossTerms.Values"/>); every reducer passes it through.</summary>
    AlreadyReduced,
}
