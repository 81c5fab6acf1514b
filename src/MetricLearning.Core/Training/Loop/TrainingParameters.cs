using System;
using System.Collections.Generic;
using System.Linq;

namespace MetricLearning.Training;

/// <summary>Gathers the parameter groups a run trains: the network's, then the loss's.</summary>
internal static class TrainingParameters
{
    /// <summary>
    /// The network's groups (its <see cref="ITrainableParameters"/>, or else every parameter of its module at the full
    /// rate) followed by the loss's (when it implements <see cref="ITrainableParameters"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A parameter is listed twice, or the network has no parameters.</exception>
    internal static IReadOnlyList<ParameterGroup> Collect(IEmbeddingNetwork network, object loss)
    {
        var groups = new List<ParameterGroup>();
        if (network is ITrainableParameters networkGroups)
        {
            groups.AddRange(networkGroups.ParameterGroups ?? throw new ArgumentException($"{network.GetType().Name}.ParameterGroups returned null.", nameof(network)));
        }
        else
        {
            var parameters = network.Module.parameters().ToList();
            if (parameters.Count == 0)
                throw new ArgumentException($"The network {network.GetType().Name} has no parameters to train.", nameof(network));
            groups.Add(new ParameterGroup("network", parameters));
        }

        if (loss is ITrainableParameters lossGroups)
            groups.AddRange(lossGroups.ParameterGroups ?? throw new ArgumentException($"{loss.GetType().Name}.ParameterGroups returned null.", nameof(loss)));

        var owner = new Dictionary<IntPtr, string>();
        foreach (var group in groups)
        {
            if (group is null)
                throw new ArgumentException("A parameter group is null.", nameof(network));
            foreach (var parameter in group.Parameters)
            {
                if (!owner.TryAdd(parameter.Handle, group.Name))
                    throw new ArgumentException(
                        $"A parameter of shape [{string.Join(", ", parameter.shape)}] is in parameter group '{owner[parameter.Handle]}' and again in '{group.Name}'; each parameter may be in one group only.",
                        nameof(network));
            }
        }

        return groups;
    }
}
