namespace MetricLearning.Reducers;

/// <summary>
/// The mean of the values that count and are above 0 (0 when none is): pytorch-metric-learning's
/// <c>AvgNonZeroReducer</c>, the default of its triplet and contrastive losses. Elements a hinge already satisfies do
/// not dilute the gradient of those that violate it.
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
public sealed class AvgNonZeroReducer : ThresholdReducer
{
    /// <summary>Creates the reducer.</summary>
    public AvgNonZeroReducer()
        : base(low: 0)
    {
    }
}
