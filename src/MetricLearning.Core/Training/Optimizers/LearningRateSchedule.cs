using System;

namespace MetricLearning.Training;

/// <summary>
/// How a trainer changes its learning rate between epochs. The schedule scales every parameter group alike, so a
/// group's rate stays the same multiple of the others'. Settable properties so that it binds from configuration.
/// </summary>
public sealed class LearningRateSchedule
{
    /// <summary>The shape of the schedule. Default <see cref="ScheduleKind.Constant"/>.</summary>
    public ScheduleKind Kind { get; set; } = ScheduleKind.Constant;

    /// <summary>For <see cref="ScheduleKind.Step"/>: epochs between two reductions. Default 10.</summary>
    public int StepEpochs { get; set; } = 10;

    /// <summary>For <see cref="ScheduleKind.Step"/>: what each reduction multiplies the learning rate by, in (0, 1]. Default 0.1.</summary>
    public double StepFactor { get; set; } = 0.1;

    /// <summary>A learning rate that stays as set.</summary>
    /// <returns>New settings.</returns>
    public static LearningRateSchedule Constant() => new() { Kind = ScheduleKind.Constant };

    /// <summary>Cosine annealing from the learning rate down to 0 over the run's epochs.</summary>
    /// <returns>New settings.</returns>
    public static LearningRateSchedule Cosine() => new() { Kind = ScheduleKind.Cosine };

    /// <summary>A learning rate multiplied by <paramref name="factor"/> every <paramref name="everyEpochs"/> epochs.</summary>
    /// <param name="everyEpochs">Epochs between two reductions; at least 1.</param>
    /// <param name="factor">What each reduction multiplies the learning rate by, in (0, 1].</param>
    /// <returns>New settings.</returns>
    public static LearningRateSchedule Step(int everyEpochs, double factor = 0.1) =>
        new() { Kind = ScheduleKind.Step, StepEpochs = everyEpochs, StepFactor = factor };

    /// <summary>Checks every setting and names the first one that is wrong.</summary>
    /// <param name="owner">Where these settings live, for the message (for example "TrainerOptions.Schedule").</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate(string owner = nameof(LearningRateSchedule))
    {
        if (!Enum.IsDefined(Kind))
            throw new ArgumentOutOfRangeException(nameof(Kind), Kind, $"{owner}.Kind must be one of {string.Join(", ", Enum.GetNames<ScheduleKind>())}.");
        if (StepEpochs < 1)
            throw new ArgumentOutOfRangeException(nameof(StepEpochs), StepEpochs, $"{owner}.StepEpochs must be at least 1.");
        if (!double.IsFinite(StepFactor) || StepFactor <= 0 || StepFactor > 1)
            throw new ArgumentOutOfRangeException(nameof(StepFactor), StepFactor, $"{owner}.StepFactor must be in (0, 1].");
    }

    /// <summary>A copy of these settings.</summary>
    /// <returns>A new object with the same values.</returns>
    public LearningRateSchedule Clone() => (LearningRateSchedule)MemberwiseClone();

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        ScheduleKind.Step => $"step(every {StepEpochs} epochs, x{StepFactor})",
        _ => Kind.ToString().ToLowerInvariant(),
    };
}
