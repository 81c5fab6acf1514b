using System;
using System.Linq;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Losses;
using MetricLearning.Mining;
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

    /// <summary>Pulls each embedding toward its class's mean; counts the mined batches it was given.</summary>
    private sealed class CentroidLoss : IBatchLoss
    {
        public int MinedBatches { get; private set; }

        public Tensor Compute(Tensor embeddings, Tensor labels, MinedIndices? mined)
        {
            if (mined is not null)
                MinedBatches++;
            using var scope = NewDisposeScope();
            var same = labels.unsqueeze(1).eq(labels.unsqueeze(0)).to_type(embeddings.dtype);
            var centroids = same.matmul(embeddings) / same.sum(1, keepdim: true);
            var different = same.neg().add(1);
            // Pull to the own centroid, push other classes' points at least 1 apart (hinge on their distance).
            var distances = (embeddings.unsqueeze(1) - embeddings.unsqueeze(0)).square().sum(2).add(1e-9).sqrt();
            var push = ((1 - distances).clamp_min(0) * different).sum() / different.sum().clamp_min(1);
            return ((embeddings - centroids).square().sum(1).mean() + push).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Mines, for each anchor, its nearest different-class sample as the only pair (built by hand).</summary>
    private sealed class NearestNegativeMiner : IMiner
    {
        public MinedIndices Mine(Tensor embeddings, Tensor labels)
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var distances = (embeddings.unsqueeze(1) - embeddings.unsqueeze(0)).abs().sum(2);
            var sameClass = labels.unsqueeze(1).eq(labels.unsqueeze(0));
            var nearest = distances.masked_fill(sameClass, double.PositiveInfinity).argmin(1);
            var anchors = arange(labels.shape[0], dtype: ScalarType.Int64);
            var none = empty(0, dtype: ScalarType.Int64);
            return new MinedPairs(
                none.MoveToOuterDisposeScope(), none.alias().MoveToOuterDisposeScope(),
                anchors.MoveToOuterDisposeScope(), nearest.MoveToOuterDisposeScope(), labels.shape[0]);
        }
    }

    [Fact]
    public void The_batch_loss_and_the_miner_can_be_the_users_own()
    {
        manual_seed(9);
        var (inputs, labels) = Blobs.Create(perClass: 24, classes: 3, dimensions: 6, seed: 9);
        using var _ = inputs;
        var embedding = new LinearEmbedding();
        var loss = new CentroidLoss();
        var options = new EmbeddingTrainerOptions { Epochs = 6, SamplesPerClass = 8, BatchSize = 24, Optimizer = { LearningRate = 1e-2 }, Seed = 9 };

        var reports = new EmbeddingTrainer(loss, options, new NearestNegativeMiner()).Fit(embedding, inputs, labels);

        loss.MinedBatches.Should().Be(6 * 3, "six epochs of three batches, each mined");
        reports[^1].Loss.Should().BeLessThan(reports[0].Loss);
        ((IDisposable)embedding.Module).Dispose();
    }

    [Fact]
    public void A_library_loss_accepts_a_user_miners_hand_built_pairs()
    {
        // x = 0, 1, 5, 6 (classes 0, 0, 1, 1), L1 distance. Nearest negatives: 0→2 (5), 1→2 (4), 2→1 (4), 3→1 (5).
        // Negative margin 4.5: (4.5 − 5)⁺² = 0 twice, (4.5 − 4)² = 0.25 twice → mean 0.125; no positive pairs → 0.
        using var batch = tensor(new[] { 0f, 1f, 5f, 6f }, new long[] { 4, 1 });
        using var batchLabels = tensor(new long[] { 0, 0, 1, 1 });
        using var mined = new NearestNegativeMiner().Mine(batch, batchLabels);

        using var loss = new ContrastiveBatchLoss(0, 4.5, new MetricLearning.Distances.LpDistance(1)).Compute(batch, batchLabels, mined);

        ((MinedPairs)mined).Negatives.data<long>().ToArray().Should().Equal(2, 2, 1, 1);
        loss.item<float>().Should().BeApproximately(0.125f, 1e-6f);
    }
}
