using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace MetricLearning.Training;

/// <summary>One of TorchSharp's optimizers (Adam, AdamW, SGD, RMSprop with several groups) behind <see cref="IStepOptimizer"/>.</summary>
internal sealed class TorchOptimizer : IStepOptimizer
{
    private readonly optim.Optimizer _optimizer;
    private readonly IReadOnlyList<optim.ILearningRateController> _groups;

    internal TorchOptimizer(optim.Optimizer optimizer)
    {
        _optimizer = optimizer;
        _groups = optimizer.ParamGroups.ToList();
    }

    /// <summary>The wrapped optimizer.</summary>
    internal optim.Optimizer Optimizer => _optimizer;

    public int GroupCount => _groups.Count;

    public double GetLearningRate(int group) => _groups[group].LearningRate;

    public void SetLearningRate(int group, double learningRate) => _groups[group].LearningRate = learningRate;

    public void ZeroGrad() => _optimizer.zero_grad();

    public void Step() => _optimizer.step();

    public void Dispose() => _optimizer.Dispose();
}
