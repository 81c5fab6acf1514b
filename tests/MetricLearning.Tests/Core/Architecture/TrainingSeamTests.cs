using System;
using System.Linq;
using FluentAssertions;
using Xunit;

namespace MetricLearning.Tests.Core.Architecture;

/// <summary>
/// The trainers choose their step through seams (<see cref="IFusedNetwork"/>, <see cref="IFusedPairLoss"/>,
/// <see cref="IFusedBatchLoss"/>), never by checking concrete types: checked on the compiled IL of the training
/// namespace, so that the code a reader studies is the code that runs, and a new part can take the fast path without
/// an edit to training.
/// </summary>
public sealed class TrainingSeamTests
{
    private static readonly Type[] Parts = { typeof(IEmbeddingNetwork), typeof(ILoss), typeof(IBatchLoss), typeof(IDistance), typeof(IMiner) };

    /// <summary>The concrete networks, losses, distances and miners that types of <paramref name="ns"/> use.</summary>
    private static string[] ConcretePartsUsedBy(string ns)
    {
        var library = typeof(IDistance).Assembly;
        return LayeringTests.Dependencies(library.Location)
            .Where(d => d.Internal && d.From == ns)
            .Select(d => (d.FromType, Target: library.GetType(d.ToType.Replace('/', '+'))))
            .Where(d => d.Target is { IsInterface: false } && Parts.Any(part => part.IsAssignableFrom(d.Target)))
            .Select(d => $"{d.FromType} uses {d.Target!.FullName}")
            .Distinct()
            .ToArray();
    }

    [Fact]
    public void Training_refers_to_no_concrete_network_loss_distance_or_miner()
    {
        ConcretePartsUsedBy("MetricLearning.Training").Should().BeEmpty(
            "the trainers take parts through their interfaces, and fast paths through IFusedNetwork, IFusedPairLoss and IFusedBatchLoss");
    }

    [Fact]
    public void The_check_sees_a_concrete_part()
    {
        // The losses' namespace builds the cosine similarity it defaults to: the scan must see that.
        ConcretePartsUsedBy("MetricLearning.Losses").Should().Contain(use => use.EndsWith("MetricLearning.Distances.CosineSimilarity", StringComparison.Ordinal));
    }
}
