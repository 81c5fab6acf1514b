using System;
using System.IO;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Models;

public sealed class SiameseNetworkTests
{
    private static MlpEmbeddingNetwork Network(int seed)
    {
        manual_seed(seed);
        var network = new MlpEmbeddingNetwork(new MlpOptions { InputSize = 5, LayerSizes = new[] { 7, 3 } });
        network.eval();
        return network;
    }

    [Fact]
    public void Distances_equal_the_distance_between_separately_computed_embeddings()
    {
        using var network = Network(1);
        var model = new SiameseNetwork(network, new EuclideanDistance());
        using var a = rand(4, 5);
        using var b = rand(4, 5);

        var fused = Tensors.Values(model.ComputeDistances(a, b));
        var separate = Tensors.Values(new EuclideanDistance().Compute(network.call(a), network.call(b)));

        for (int i = 0; i < 4; i++)
            fused[i].Should().BeApproximately(separate[i], 1e-6f);
    }

    [Fact]
    public void Saved_weights_load_back_into_a_fresh_network()
    {
        using var folder = new TempFolder();
        string path = folder.File(Path.Combine("nested", "weights.bin"));
        using var trained = Network(1);
        using var fresh = Network(2);
        using var input = rand(3, 5);

        new SiameseNetwork(trained, new EuclideanDistance()).SaveWeights(path);
        new SiameseNetwork(fresh, new EuclideanDistance()).LoadWeights(path);

        Tensors.Values(fresh.call(input)).Should().Equal(Tensors.Values(trained.call(input)));
        Directory.GetFiles(Path.GetDirectoryName(path)!).Should().Equal(path);
    }

    [Fact]
    public void Loading_weights_of_another_shape_is_refused_with_the_file_named()
    {
        using var folder = new TempFolder();
        string path = folder.File("small.bin");
        using var small = Network(1);
        new SiameseNetwork(small, new EuclideanDistance()).SaveWeights(path);
        manual_seed(2);
        using var wider = new MlpEmbeddingNetwork(new MlpOptions { InputSize = 5, LayerSizes = new[] { 9, 3 } });

        var act = () => new SiameseNetwork(wider, new EuclideanDistance()).LoadWeights(path);

        act.Should().Throw<InvalidDataException>().WithMessage($"*{path}*do not fit*");
    }

    [Fact]
    public void A_file_that_is_not_weights_is_refused()
    {
        using var folder = new TempFolder();
        string path = folder.File("text.bin");
        File.WriteAllText(path, "not weights");
        using var network = Network(1);

        var act = () => new SiameseNetwork(network, new EuclideanDistance()).LoadWeights(path);

        act.Should().Throw<InvalidDataException>().WithMessage($"*{path}*");
    }

    [Fact]
    public void Loading_a_missing_file_names_it()
    {
        using var network = Network(1);

        var act = () => new SiameseNetwork(network, new EuclideanDistance()).LoadWeights("/no/such/weights.bin");

        act.Should().Throw<FileNotFoundException>().WithMessage("*/no/such/weights.bin*");
    }

    [Fact]
    public void Input_sets_gather_rows_as_scaled_float32()
    {
        using var inputs = new InputSet(tensor(new byte[] { 0, 255, 51, 102 }, new long[] { 2, 2 }), 1f / 255f);
        using var indices = tensor(new long[] { 1, 0, 1 });

        using var batch = inputs.Gather(indices);

        batch.dtype.Should().Be(ScalarType.Float32);
        Tensors.Values(batch).Should().Equal(new[] { 0.2f, 0.4f, 0f, 1f, 0.2f, 0.4f }, (x, y) => Math.Abs(x - y) < 1e-6f);
    }

    [Fact]
    public void Pair_sets_refuse_arrays_of_different_lengths()
    {
        var act = () => new PairSet(new[] { 0, 1 }, new[] { 1 }, new[] { true, false });

        act.Should().Throw<ArgumentException>().WithMessage("*first has 2, second 1*");
    }
}
