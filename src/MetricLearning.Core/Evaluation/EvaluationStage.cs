namespace MetricLearning.Evaluation;

/// <summary>The part of a retrieval evaluation an <see cref="EvaluationProgress"/> report is about.</summary>
public enum EvaluationStage
{
    /// <summary>Finding each query's nearest references; counted in queries.</summary>
    Neighbours,

    /// <summary>k-means for NMI and AMI (<see cref="RetrievalEvaluationOptions.Clustering"/>); counted in iterations over all restarts.</summary>
    Clustering,
}
