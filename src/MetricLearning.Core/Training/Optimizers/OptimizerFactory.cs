using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MetricLearning.Training;

/// <summary>Builds the optimizer that <see cref="OptimizerSettings"/> describe over parameter groups.</summary>
internal static class OptimizerFactory
{
    /// <summary>
    /// Creates the optimizer. RMSprop over one group at the full rate without weight decay takes the fast path
    /// (<see cref="RmsPropOptimizer"/>, the reference experiment's); everything else is TorchSharp's own optimizer,
    /// with one TorchSharp parameter group per <see cref="ParameterGroup"/> at <c>LearningRate × LearningRateScale</c>.
    /// </summary>
    internal static IStepOptimizer Create(OptimizerSettings options, IReadOnlyList<ParameterGroup> groups)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(groups);
        if (groups.Count == 0)
            throw new ArgumentException("There are no parameters to train.", nameof(groups));
        options.Validate();
        double rate = options.LearningRate;
        double epsilon = options.EffectiveEpsilon;
        double decay = options.EffectiveWeightDecay;
        switch (options.Kind)
        {
            case OptimizerKind.RmsProp when groups.Count == 1 && groups[0].LearningRateScale == 1 && decay == 0:
                return new RmsPropOptimizer(groups[0].Parameters, rate, options.Rho, epsilon);
            case OptimizerKind.RmsProp:
                return new TorchOptimizer(optim.RMSProp(
                    groups.Select(group => new RMSProp.ParamGroup(group.Parameters, lr: rate * group.LearningRateScale, alpha: options.Rho, eps: epsilon, weight_decay: decay)),
                    lr: rate, alpha: options.Rho, eps: epsilon, weight_decay: decay));
            case OptimizerKind.Adam:
                return new TorchOptimizer(optim.Adam(
                    groups.Select(group => new Adam.ParamGroup(group.Parameters, lr: rate * group.LearningRateScale, beta1: options.Beta1, beta2: options.Beta2, eps: epsilon, weight_decay: decay)),
                    lr: rate, beta1: options.Beta1, beta2: options.Beta2, eps: epsilon, weight_decay: decay));
            case OptimizerKind.AdamW:
                return new TorchOptimizer(optim.AdamW(
                    groups.Select(group => new AdamW.ParamGroup(group.Parameters, lr: rate * group.LearningRateScale, beta1: options.Beta1, beta2: options.Beta2, eps: epsilon, weight_decay: decay)),
                    lr: rate, beta1: options.Beta1, beta2: options.Beta2, eps: epsilon, weight_decay: decay));
            case OptimizerKind.Sgd:
                return new TorchOptimizer(optim.SGD(
                    groups.Select(group => new SGD.ParamGroup(group.Parameters, lr: rate * group.LearningRateScale, momentum: options.Momentum, weight_decay: decay, nesterov: options.Nesterov)),
                    learningRate: rate, momentum: options.Momentum, weight_decay: decay, nesterov: options.Nesterov));
            default:
                throw new ArgumentOutOfRangeException(nameof(options), options.Kind, $"Unknown optimizer kind {options.Kind}.");
        }
    }
}
