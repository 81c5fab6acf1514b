using System.Collections.Generic;
using TorchSharp.Modules;

namespace MetricLearning;

/// <summary>
/// A loss with weights of its own that are learnt with the network, such as the class proxies of
/// <see cref="Losses.ProxyAnchorLoss"/>. <see cref="Training.EmbeddingTrainer"/> adds <see cref="Parameters"/> to its
/// optimizer, at <see cref="LearningRateScale"/> times the network's learning rate.
/// </summary>
/// <remarks>Such a loss holds state (its weights) and is not thread-safe while it trains.</remarks>
public interface ITrainableLoss
{
    /// <summary>The loss's own weights.</summary>
    IEnumerable<Parameter> Parameters { get; }

    /// <summary>How much faster than the network these weights learn (proxies usually learn about 100 times faster).</summary>
    double LearningRateScale { get; }
}
