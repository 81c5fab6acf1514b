using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp.Modules;

namespace MetricLearning;

/// <summary>
/// Weights that the trainer optimises together at one learning rate: the trainer's learning rate times
/// <see cref="LearningRateScale"/>. A network returns several (a pretrained trunk that learns slowly, a new head at
/// full speed) and a loss with weights of its own returns its own (class proxies that learn faster); see
/// <see cref="ITrainableParameters"/>.
/// </summary>
/// <remarks>The learning-rate schedule scales every group alike, so the ratios between groups hold for the whole run.</remarks>
public sealed class ParameterGroup
{
    /// <summary>Creates a group.</summary>
    /// <param name="name">What the weights are, for messages (for example "trunk" or "proxies").</param>
    /// <param name="parameters">The weights; at least one.</param>
    /// <param name="learningRateScale">This group's learning rate as a multiple of the trainer's; positive and finite.</param>
    /// <exception cref="ArgumentException">The name is empty or there are no parameters.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The scale is not positive and finite.</exception>
    public ParameterGroup(string name, IEnumerable<Parameter> parameters, double learningRateScale = 1)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(parameters);
        if (!double.IsFinite(learningRateScale) || learningRateScale <= 0)
            throw new ArgumentOutOfRangeException(nameof(learningRateScale), learningRateScale, $"The learning-rate scale of parameter group '{name}' must be positive and finite.");
        var list = parameters.ToList();
        if (list.Count == 0)
            throw new ArgumentException($"Parameter group '{name}' has no parameters.", nameof(parameters));
        if (list.Any(parameter => parameter is null))
            throw new ArgumentException($"Parameter group '{name}' holds a null parameter.", nameof(parameters));
        Name = name;
        Parameters = list;
        LearningRateScale = learningRateScale;
    }

    /// <summary>What the weights are, for messages.</summary>
    public string Name { get; }

    /// <summary>The weights.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>This group's learning rate as a multiple of the trainer's.</summary>
    public double LearningRateScale { get; }
}
