using System;
using System.Collections.Generic;

namespace MetricLearning.Data;

/// <summary>The samples of each class, in dataset order; what the pair samplers build on.</summary>
internal static class ClassMembers
{
    /// <summary>Groups sample indices by label, classes in ascending label order.</summary>
    /// <exception cref="ArgumentException">There are fewer than two classes, so no different-class pair exists.</exception>
    internal static SortedDictionary<int, List<int>> Group(IReadOnlyList<int> labels, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(labels, parameterName);
        var byClass = new SortedDictionary<int, List<int>>();
        for (int i = 0; i < labels.Count; i++)
        {
            if (!byClass.TryGetValue(labels[i], out var members))
                byClass[labels[i]] = members = new List<int>();
            members.Add(i);
        }

        if (byClass.Count < 2)
            throw new ArgumentException($"Pairs of different classes need at least two classes; the labels hold {byClass.Count}.", parameterName);
        return byClass;
    }
}
