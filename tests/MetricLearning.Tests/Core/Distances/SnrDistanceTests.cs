using System;
using System.IO;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Indexing;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Distances;

/// <summary>The SNR distance: values worked out by hand, its matrix against its row-wise form, its checks, and saving it with a model and an index.</summary>
public sealed class SnrDistanceTests
{
    // Row pairs, without normalisation, with Var(b − a) / Var(a) worked out by hand (variances over the 4 components):
    //   (1, 2, 3, 4)    vs (2, 2, 2, 2):    b − a = (1, 0, −1, −2), variance 1.25; Var(a) 1.25      → 1
    //   (1, −1, 1, −1)  vs (2, 0, 2, 0):    b − a = (1, 1, 1, 1), variance 0                        → 0
    //   (1, −1, 1, −1)  vs (3, −3, 3, −3):  b − a = 2a, variance 4·Var(a)                            → 4
    //   (3, −3, 3, −3)  vs (1, −1, 1, −1):  b − a = −(2/3)a, variance (4/9)·Var(a)                   → 4/9
    private static readonly float[][] First = { new[] { 1f, 2, 3, 4 }, new[] { 1f, -1, 1, -1 }, new[] { 1f, -1, 1, -1 }, new[] { 3f, -3, 3, -3 } };
    private static readonly float[][] Second = { new[] { 2f, 2, 2, 2 }, new[] { 2f, 0, 2, 0 }, new[] { 3f, -3, 3, -3 }, new[] { 1f, -1, 1, -1 } };

    [Fact]
    public void Compute_matches_the_values_worked_out_by_hand_and_is_not_symmetric()
    {
        using var a = Tensors.Rows(First);
        using var b = Tensors.Rows(Second);

        var values = Tensors.Values(new SnrDistance(normalize: false).Compute(a, b));

        values.Should().Equal(new[] { 1f, 0, 4, 4f / 9 }, (x, y) => Math.Abs(x - y) < 1e-5);
    }

    [Fact]
    public void Normalised_it_ignores_the_scale_of_each_embedding()
    {
        using var a = Tensors.Rows(new[] { 1f, -1, 1, -1 }, new[] { 1f, 2, 3, 4 });
        using var b = Tensors.Rows(new[] { 3f, -3, 3, -3 }, new[] { 0.5f, 1, 1.5f, 2 });

        Tensors.Values(new SnrDistance().Compute(a, b)).Should().OnlyContain(v => Math.Abs(v) < 1e-6, "each pair is one direction at two scales");
        Tensors.Values(new SnrDistance(normalize: false).Compute(a, b)).Should().OnlyContain(v => v > 0.2, "without normalisation the scales differ");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ComputeMatrix_agrees_with_Compute_on_every_pair_of_rows(bool normalize)
    {
        var distance = new SnrDistance(normalize);
        using var a = Tensors.Rows(First);
        using var b = Tensors.Rows(Second);

        var matrix = Tensors.Values(distance.ComputeMatrix(a, b));

        for (int i = 0; i < First.Length; i++)
        {
            for (int j = 0; j < Second.Length; j++)
            {
                using var row = Tensors.Rows(First[i]);
                using var column = Tensors.Rows(Second[j]);
                float single = Tensors.Values(distance.Compute(row, column))[0];
                matrix[i * Second.Length + j].Should().BeApproximately(single, 1e-4f, $"({i}, {j})");
            }
        }
    }

    [Fact]
    public void It_is_a_distance_and_refuses_embeddings_without_a_variance()
    {
        ((IDistance)new SnrDistance()).IsSimilarity.Should().BeFalse();
        using var narrow = zeros(3, 1);
        using var mismatched = zeros(3, 5);
        using var wide = zeros(3, 4);

        FluentActions.Invoking(() => new SnrDistance().Compute(narrow, narrow)).Should().Throw<ArgumentException>().WithMessage("*two components*");
        FluentActions.Invoking(() => new SnrDistance().ComputeMatrix(narrow, narrow)).Should().Throw<ArgumentException>().WithMessage("*two components*");
        FluentActions.Invoking(() => new SnrDistance().Compute(wide, mismatched)).Should().Throw<ArgumentException>().WithMessage("*[3, 4]*[3, 5]*");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_model_saved_with_it_loads_back_with_the_same_distance(bool normalize)
    {
        using var folder = new TempFolder();
        manual_seed(1);
        using var model = new TrainedModel(new MlpEmbeddingNetwork(new MlpOptions { InputSize = 4, LayerSizes = new[] { 6, 3 } }), new SnrDistance(normalize), 0.5);
        using var a = rand(5, 4);
        using var b = rand(5, 4);
        model.Save(folder.Path);

        using var loaded = TrainedModel.Load(folder.Path);

        loaded.Distance.Should().BeOfType<SnrDistance>().Which.Normalize.Should().Be(normalize);
        File.ReadAllText(Path.Combine(folder.Path, "model.json")).Should().Contain("\"SnrDistance\"");
        loaded.Verify(a, b).Should().Equal(model.Verify(a, b));
    }

    [Fact]
    public void An_index_restores_it()
    {
        using var folder = new TempFolder();
        string path = folder.File("snr.index");
        using (var index = new EmbeddingIndex(new SnrDistance(normalize: false)))
        {
            using var rows = randn(4, 3);
            index.Add(rows, new[] { 0, 1, 2, 3 });
            index.Save(path);
        }

        using var loaded = EmbeddingIndex.Load(path);

        loaded.Distance.Should().BeOfType<SnrDistance>().Which.Normalize.Should().BeFalse();
    }
}
