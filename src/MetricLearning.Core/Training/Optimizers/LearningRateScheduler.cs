using System;

namespace MetricLearning.Training;

/// <summary>Applies a <see cref="LearningRateSchedule"/> to an optimizer's groups after each epoch.</summary>
/// <remarks>
/// Each group's rate is updated from its own current rate, so the ratios between groups hold. The cosine follows
/// PyTorch's <c>CosineAnnealingLR</c> in its chainable form,
/// <c>lr_e = lr_{e−1} · (1 + cos(π e / T)) / (1 + cos(π (e − 1) / T))</c>, rather than the closed form
/// <c>lr_0 (1 + cos(π e / T)) / 2</c>: the two agree to rounding, and the chainable form gives the same rates, bit for
/// bit, as PyTorch and as this library's earlier releases, so results stay reproducible across them.
/// </remarks>
internal sealed class LearningRateScheduler
{
    private readonly LearningRateSchedule _schedule;
    private readonly int _epochs;
    private readonly IStepOptimizer _optimizer;

    internal LearningRateScheduler(LearningRateSchedule schedule, int epochs, IStepOptimizer optimizer)
    {
        _schedule = schedule;
        _epochs = epochs;
        _optimizer = optimizer;
    }

    /// <summary>Sets the rates for the epoch after <paramref name="completedEpoch"/> (from 1).</summary>
    internal void EpochCompleted(int completedEpoch)
    {
        for (int group = 0; group < _optimizer.GroupCount; group++)
            _optimizer.SetLearningRate(group, Next(_optimizer.GetLearningRate(group), completedEpoch));
    }

    private double Next(double current, int epoch) => _schedule.Kind switch
    {
        ScheduleKind.Constant => current,
        ScheduleKind.Step => epoch % _schedule.StepEpochs == 0 ? current * _schedule.StepFactor : current,
        ScheduleKind.Cosine => (1 + Math.Cos(Math.PI * epoch / _epochs)) / (1 + Math.Cos(Math.PI * (epoch - 1) / _epochs)) * current,
        _ => throw new InvalidOperationException($"Unknown schedule {_schedule.Kind}."),
    };
}
