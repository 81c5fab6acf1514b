namespace MetricLearning.Training;

/// <summary>How the learning rate changes from epoch to epoch; see <see cref="LearningRateSchedule"/>.</summary>
public enum ScheduleKind
{
    /// <summary>The learning rate stays as set.</summary>
    Constant,

    /// <summary>Cosine annealing from the learning rate down to 0 over the run's epochs (PyTorch's <c>CosineAnnealingLR</c> with T_max = epochs).</summary>
    Cosine,

    /// <summary>The learning rate is multiplied by <see cref="LearningRateSchedule.StepFactor"/> every <see cref="LearningRateSchedule.StepEpochs"/> epochs (PyTorch's <c>StepLR</c>).</summary>
    Step,
}
