namespace MetricLearning.Evaluation;

/// <summary>One point of a ROC curve: what accepting every pair at least as close as <see cref="Threshold"/> gives.</summary>
/// <param name="Threshold">The score cut: a distance at or below it, or a similarity at or above it, is accepted as "same class".</param>
/// <param name="FalseAcceptRate">Share of different-class pairs accepted (the ROC curve's x).</param>
/// <param name="TrueAcceptRate">Share of same-class pairs accepted (the ROC curve's y).</param>
public sealed record RocPoint(double Threshold, double FalseAcceptRate, double TrueAcceptRate);
