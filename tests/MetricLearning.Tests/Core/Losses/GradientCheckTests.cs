using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Mining;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Losses;

/// <summary>
/// Every loss and every distance against a float64 central difference, <c>(f(x + h·e_i) − f(x − h·e_i)) / 2h</c>:
/// autograd's gradient must agree with the function's own slope, element by element, at random points.
/// </summary>
public sealed class GradientCheckTests
{
    private const double Step = 1e-6;

    /// <summary>Autograd's gradient of <paramref name="f"/> at <paramref name="x"/> against the central difference.</summary>
    internal static void CheckGradient(Func<Tensor, Tensor> f, Tensor x, string what)
    {
        using var scope = NewDisposeScope();
        var point = x.detach().clone().requires_grad_(true);
        f(point).backward();
        var analytic = point.grad!.detach().clone().flatten().data<double>().ToArray();
        var values = x.detach().clone().flatten();
        var numeric = new double[values.shape[0]];
        using (no_grad())
        {
            for (int i = 0; i < numeric.Length; i++)
            {
                double original = values[i].item<double>();
                values[i] = original + Step;
                double up = f(values.view(x.shape)).item<double>();
                values[i] = original - Step;
                double down = f(values.view(x.shape)).item<double>();
                values[i] = original;
                numeric[i] = (up - down) / (2 * Step);
            }
        }

        analytic.Should().OnlyContain(g => double.IsFinite(g), $"{what}: gradients are finite");
        numeric.Select(Math.Abs).Max().Should().BeGreaterThan(1e-4, $"{what}: the check is not vacuous (the function has a slope here)");
        for (int i = 0; i < numeric.Length; i++)
            analytic[i].Should().BeApproximately(numeric[i], 1e-5 + 1e-4 * Math.Abs(numeric[i]), $"{what}: d/dx[{i}]");
    }

    internal static Tensor Random(int seed, params long[] shape)
    {
        manual_seed(seed);
        return randn(shape, dtype: ScalarType.Float64);
    }

    /// <summary>Eight embeddings of four classes, two each, so every anchor has a positive and negatives.</summary>
    private static readonly long[] Labels = { 0, 0, 1, 1, 2, 2, 3, 3 };

    public static TheoryData<string> Distances => new() { "euclidean", "squared-euclidean", "lp3", "lp2-normalized", "cosine-distance", "cosine-similarity", "dot-product" };

    private static IDistance CreateDistance(string name) => name switch
    {
        "euclidean" => new EuclideanDistance(),
        "squared-euclidean" => new SquaredEuclideanDistance(),
        "lp3" => new LpDistance(3),
        "lp2-normalized" => new LpDistance(2, normalize: true),
        "cosine-distance" => new CosineDistance(),
        "cosine-similarity" => new CosineSimilarity(),
        _ => new DotProductSimilarity(),
    };

    [Theory]
    [MemberData(nameof(Distances))]
    public void Distances_row_wise_and_as_a_matrix(string name)
    {
        var distance = CreateDistance(name);
        using var other = Random(2, 5, 4);
        using var weights = Random(3, 5);
        using var matrixWeights = Random(4, 5, 6);
        using var references = Random(5, 6, 4);
        // A weighted sum, so each output's gradient counts with a different weight.
        CheckGradient(x => (distance.Compute(x, other) * weights).sum(), Random(1, 5, 4), $"{name} row-wise");
        CheckGradient(x => (distance.ComputeMatrix(x, references) * matrixWeights).sum(), Random(6, 5, 4), $"{name} matrix");
    }

    [Fact]
    public void Contrastive_pair_loss()
    {
        using var same = tensor(new float[] { 1, 0, 1, 0, 0, 1 });
        var loss = new ContrastiveLoss(margin: 2);
        // Distances spread around the margin, none on it (the hinge has no slope there).
        CheckGradient(d => loss.Compute(d, same), tensor(new[] { 0.3, 0.7, 1.4, 1.9, 2.6, 3.1 }), "contrastive");
    }

    public static TheoryData<string, string> BatchLosses => new()
    {
        { "multi-similarity", "none" }, { "multi-similarity", "multi-similarity" },
        { "contrastive", "none" }, { "contrastive", "pair-margin" },
        { "triplet", "none" }, { "triplet", "batch-hard" }, { "triplet", "semi-hard" },
        { "supcon", "none" },
        { "margin-contrastive", "none" }, { "margin-contrastive", "pair-margin" }, { "margin-contrastive-cosine", "none" },
        { "triplet-per-anchor", "none" }, { "supcon-avg-non-zero", "none" },
    };

    private static IBatchLoss CreateBatchLoss(string name) => name switch
    {
        "multi-similarity" => new MultiSimilarityLoss(),
        "contrastive" => new ContrastiveBatchLoss(positiveMargin: 0.1, negativeMargin: 1.5),
        "triplet" => new TripletMarginLoss(margin: 0.5),
        "margin-contrastive" => new MarginContrastiveLoss(positiveMargin: 0.1, negativeMargin: 1.5),
        "margin-contrastive-cosine" => new MarginContrastiveLoss(0.9, 0.1, new CosineSimilarity()),
        // Other reducers than the defaults, with a regularizer: the reduction and the penalty are differentiated too.
        "triplet-per-anchor" => new TripletMarginLoss(margin: 0.5, reducer: new MetricLearning.Reducers.PerAnchorReducer()) { EmbeddingRegularizer = new MetricLearning.Regularizers.LpRegularizer(), EmbeddingRegularizerWeight = 0.1 },
        "supcon-avg-non-zero" => new SupConLoss(reducer: new MetricLearning.Reducers.AvgNonZeroReducer()) { EmbeddingRegularizer = new MetricLearning.Regularizers.ZeroMeanRegularizer() },
        _ => new SupConLoss(),
    };

    private static IMiner? CreateMiner(string name) => name switch
    {
        "multi-similarity" => new MultiSimilarityMiner(epsilon: 0.5),
        "pair-margin" => new PairMarginMiner(0.5, 1.5, new LpDistance(2, normalize: true)),
        "batch-hard" => new BatchHardMiner(),
        "semi-hard" => new SemiHardMiner(margin: 0.5),
        _ => null,
    };

    [Theory]
    [MemberData(nameof(BatchLosses))]
    public void Batch_losses_with_and_without_mined_indices(string lossName, string minerName)
    {
        var loss = CreateBatchLoss(lossName);
        var miner = CreateMiner(minerName);
        using var labels = tensor(Labels);
        using var start = Random(10, Labels.Length, 5);
        // The miner picks from the starting point and its choice stays fixed while the loss is probed.
        var mined = miner?.Mine(start, labels);
        if (miner is not null)
            mined.Should().NotBeNull();

        CheckGradient(x => loss.Compute(x, labels, mined), start, $"{lossName} loss, {minerName} miner");
    }

    [Theory]
    [InlineData("proxy-anchor")]
    [InlineData("arcface")]
    public void Losses_with_class_vectors_in_the_embeddings_and_in_the_class_vectors(string name)
    {
        var previous = get_default_dtype();
        set_default_dtype(ScalarType.Float64);   // the class vectors are drawn in float64 too
        try
        {
            manual_seed(11);
            IBatchLoss loss = name == "proxy-anchor" ? new ProxyAnchorLoss(classes: 4, embeddingSize: 5, alpha: 8) : new ArcFaceLoss(classes: 4, embeddingSize: 5, margin: 0.3, scale: 4);
            var vectors = ((ITrainableParameters)loss).ParameterGroups.Single().Parameters.Single();
            using var labels = tensor(Labels);
            using var embeddings = Random(12, Labels.Length, 5);

            CheckGradient(x => loss.Compute(x, labels), embeddings, $"{name}, embeddings");
            CheckParameterGradient(() => loss.Compute(embeddings, labels), vectors, $"{name}, class vectors");
            (loss as IDisposable)?.Dispose();
        }
        finally
        {
            set_default_dtype(previous);
        }
    }

    /// <summary>As <see cref="CheckGradient"/>, for a parameter the function reads itself (perturbed in place).</summary>
    private static void CheckParameterGradient(Func<Tensor> f, TorchSharp.Modules.Parameter parameter, string what)
    {
        using var scope = NewDisposeScope();
        parameter.grad = null;
        f().backward();
        var analytic = parameter.grad!.detach().clone().flatten().data<double>().ToArray();
        var flat = parameter.detach().view(-1);
        var numeric = new double[analytic.Length];
        using (no_grad())
        {
            for (int i = 0; i < numeric.Length; i++)
            {
                double original = flat[i].item<double>();
                flat[i] = original + Step;
                double up = f().item<double>();
                flat[i] = original - Step;
                double down = f().item<double>();
                flat[i] = original;
                numeric[i] = (up - down) / (2 * Step);
            }
        }

        numeric.Select(Math.Abs).Max().Should().BeGreaterThan(1e-4, $"{what}: the check is not vacuous");
        for (int i = 0; i < numeric.Length; i++)
            analytic[i].Should().BeApproximately(numeric[i], 1e-5 + 1e-4 * Math.Abs(numeric[i]), $"{what}: d/dθ[{i}]");
    }
}
