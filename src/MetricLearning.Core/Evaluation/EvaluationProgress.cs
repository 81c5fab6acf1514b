namespace MetricLearning.Evaluation;

/// <summary>How far a retrieval evaluation has got: <see cref="Completed"/> of <see cref="Total"/> units of one <see cref="Stage"/>.</summary>
/// <param name="Stage">Which part of the evaluation is running.</param>
/// <param name="Completed">Units done in this stage: queries for <see cref="EvaluationStage.Neighbours"/>, k-means iterations for <see cref="EvaluationStage.Clustering"/>.</param>
/// <param name="Total">Units this stage has in all.</param>
public readonly record struct EvaluationProgress(EvaluationStage Stage, long Completed, long Total);
