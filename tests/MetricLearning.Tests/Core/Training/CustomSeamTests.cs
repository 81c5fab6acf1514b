using System;
using System.Linq;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Models;
using MetricLearning.Tests.TestSupport;
using MetricLearning.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Training;

/// <summary>A user's own implementation of every seam, plugged in without touching the library.</summary>
public sealed class CustomSeamTests
{
    /// <summary>Manhattan (L1) distance; counts its calls.</summary>
    private sealed class ManhattanDistance : IDistance
    {
        public int Calls { get; private set; }

        public Tensor Compute(Tensor first, Tensor second)
        {
            Calls++;
            return (first - second).abs().sum(1);
        }

        public Tensor ComputeMatrix(Tensor queries, Tensor references) =>
            (queries.unsqueeze(1) - references.unsqueeze(0)).abs().sum(2);
    }

    /// <summary>A margin-free loss: same-class pairs pulled in, different-class pushed out as exp(-d).</summary>
    private sealed class ExponentialLoss : ILoss
    {
        public Tensor Compute(Tensor distances, Tensor sameClass)
        {
            var y = sameClass.to_type(distances.dtype);
            return (y * distances + (1 - y) * (-distances).exp()).mean();
        }
    }

    /// <summary>Pairs every sample with its successor; same-class when the labels agree.</summary>
    private sealed class NeighbourSampler : IPairSampler
    {
        public PairSet Sample(System.Collections.Generic.IReadOnlyList<int> labels)
        {
            var first = Enumerable.Range(0, labels.Count - 1).ToArray();
            var second = first.Select(i => i + 1).ToArray();
            return new PairSet(first, second, first.Select(i => labels[i] == labels[i + 1]).ToArray());
        }
    }

    /// <summary>A linear embedding built from TorchSharp's own modules.</summary>
    private sealed class LinearEmbedding : IEmbeddingNetwork
    {
        public long EmbeddingSize => 4;

        public nn.Module<Tensor, Tensor> Module { get; } = nn.Linear(6, 4);
    }

    [Fact]
    public void Every_seam_can_be_replaced_by_a_user_implementation()
    {
        manual_seed(8);
        var (inputs, labels) = Blobs.Create(perClass: 40, classes: 2, dimensions: 6, seed: 8);
        using var _ = inputs;
        var distance = new ManhattanDistance();
        var embedding = new LinearEmbedding();
        var model = new SiameseNetwork(embedding, distance);
        var data = new PairDataset(inputs, new NeighbourSampler().Sample(labels));

        var epochs = new SiameseTrainer(new ExponentialLoss(), new TrainerOptions { Epochs = 5, BatchSize = 16, Threshold = 1.0 })
            .Fit(model, data);

        distance.Calls.Should().BeGreaterThan(5 * (data.Pairs.Count / 16));
        epochs[^1].Loss.Should().BeLessThan(epochs[0].Loss);
        ((IDisposable)embedding.Module).Dispose();
    }
}
