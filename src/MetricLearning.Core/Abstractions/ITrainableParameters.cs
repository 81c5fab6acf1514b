using System.Collections.Generic;

namespace MetricLearning;

/// <summary>
/// Says which weights a network or a loss trains, and at what pace. Optional: without it, the trainers train every
/// parameter of a network's module at the trainer's learning rate, and a loss has no weights.
/// </summary>
/// <remarks>
/// <para>
/// An <see cref="IEmbeddingNetwork"/> implements it to train its parts at different rates (a pretrained trunk at a
/// tenth, a new head at full speed) or to freeze a part (leave its parameters out of every group). A loss
/// (<see cref="ILoss"/> or <see cref="IBatchLoss"/>) implements it when it has weights of its own, such as the class
/// proxies of <see cref="Losses.ProxyAnchorLoss"/>; the trainer adds them to its optimizer.
/// </para>
/// <para>A parameter may appear in one group only; the trainer refuses a parameter listed twice, naming both groups.</para>
/// </remarks>
public interface ITrainableParameters
{
    /// <summary>The groups of weights to train, each with its learning-rate scale.</summary>
    IReadOnlyList<ParameterGroup> ParameterGroups { get; }
}
