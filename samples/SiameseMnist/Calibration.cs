using MetricLearning.Evaluation;

namespace SiameseMnist;

/// <summary>A threshold calibrated on held-out training pairs, and what it gives on the test pairs.</summary>
/// <param name="HeldOutPairs">How many held-out training pairs the threshold was chosen on.</param>
/// <param name="Threshold">The distance threshold that maximised accuracy on them.</param>
/// <param name="TestAccuracy">Test pair accuracy at that threshold.</param>
/// <param name="Test">Verification metrics of the test pairs.</param>
/// <param name="TestScores">The distance of each test pair.</param>
internal sealed record Calibration(int HeldOutPairs, double Threshold, double TestAccuracy, VerificationMetrics Test, float[] TestScores);
