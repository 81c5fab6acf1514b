using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Evaluation;
using MetricLearning.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Evaluation;

public sealed class PairEvaluatorTests
{
    /// <summary>An embedding that is the input itself, so that distances can be worked out by hand.</summary>
    private sealed class IdentityEmbedding : IEmbeddingNetwork
    {
        public long EmbeddingSize => 2;

        public nn.Module<Tensor, Tensor> Module { get; } = nn.Identity();
    }

    // Inputs (1, 0), (0.9, 0.1), (0, 1). Pairs: (0, 1) same, (0, 2) different, (1, 2) labelled same.
    //   Euclidean: 0.141, 1.414, 1.273   -> below 0.5: same, different, different -> 2 of 3 right
    //   cosine:    0.994, 0,     0.110   -> above 0.5: same, different, different -> 2 of 3 right
    // Reading the cosine the wrong way round (below 0.5 = same) would get 1 of 3.
    private static PairDataset Data(InputSet inputs) =>
        new(inputs, new PairSet(new[] { 0, 0, 1 }, new[] { 1, 2, 2 }, new[] { true, false, true }));

    [Fact]
    public void Distances_are_read_as_closer_when_smaller()
    {
        using var inputs = new InputSet(tensor(new[] { 1f, 0f, 0.9f, 0.1f, 0f, 1f }, new long[] { 3, 2 }));
        var model = new SiameseNetwork(new IdentityEmbedding(), new EuclideanDistance());

        PairEvaluator.Accuracy(model, Data(inputs), threshold: 0.5).Should().BeApproximately(2.0 / 3, 1e-9);
    }

    [Fact]
    public void Similarities_are_read_as_closer_when_larger()
    {
        using var inputs = new InputSet(tensor(new[] { 1f, 0f, 0.9f, 0.1f, 0f, 1f }, new long[] { 3, 2 }));
        var model = new SiameseNetwork(new IdentityEmbedding(), new CosineSimilarity());

        PairEvaluator.Accuracy(model, Data(inputs), threshold: 0.5).Should().BeApproximately(2.0 / 3, 1e-9);
    }

    [Fact]
    public void Distances_come_back_in_pair_order()
    {
        using var inputs = new InputSet(tensor(new[] { 1f, 0f, 0.9f, 0.1f, 0f, 1f }, new long[] { 3, 2 }));
        var model = new SiameseNetwork(new IdentityEmbedding(), new SquaredEuclideanDistance());

        var values = PairEvaluator.Distances(model, Data(inputs)).data<float>().ToArray();

        values.Should().Equal(new[] { 0.02f, 2f, 1.62f }, (x, y) => System.Math.Abs(x - y) < 1e-5f);
    }
}
