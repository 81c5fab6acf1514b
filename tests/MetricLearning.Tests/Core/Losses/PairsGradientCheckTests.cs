using System.Linq;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Mining;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Losses;

/// <summary>
/// The pair losses and the SNR distance against a float64 central difference (<see cref="GradientCheckTests.CheckGradient"/>):
/// autograd's gradient agrees with the function's own slope, element by element, at random points, with and without
/// mined indices.
/// </summary>
public sealed class PairsGradientCheckTests
{
    /// <summary>Eight embeddings of four classes, two each, so every anchor has a positive and negatives.</summary>
    private static readonly long[] Labels = { 0, 0, 1, 1, 2, 2, 3, 3 };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SNR_distance_row_wise_and_as_a_matrix(bool normalize)
    {
        var distance = new SnrDistance(normalize);
        using var other = GradientCheckTests.Random(2, 5, 4);
        using var weights = GradientCheckTests.Random(3, 5);
        using var matrixWeights = GradientCheckTests.Random(4, 5, 6);
        using var references = GradientCheckTests.Random(5, 6, 4);
        GradientCheckTests.CheckGradient(x => (distance.Compute(x, other) * weights).sum(), GradientCheckTests.Random(1, 5, 4), $"SNR (normalize {normalize}) row-wise");
        GradientCheckTests.CheckGradient(x => (distance.ComputeMatrix(x, references) * matrixWeights).sum(), GradientCheckTests.Random(6, 5, 4), $"SNR (normalize {normalize}) matrix");
        // The references' side too: the matrix is not symmetric.
        using var queries = GradientCheckTests.Random(7, 5, 4);
        GradientCheckTests.CheckGradient(r => (distance.ComputeMatrix(queries, r) * matrixWeights).sum(), GradientCheckTests.Random(8, 6, 4), $"SNR (normalize {normalize}) matrix, references");
    }

    public static TheoryData<string, string> Losses => new()
    {
        { "nt-xent", "none" }, { "nt-xent", "multi-similarity" },
        { "lifted", "none" }, { "lifted", "multi-similarity" },
        { "generalized-lifted", "none" }, { "generalized-lifted", "multi-similarity" },
        { "n-pairs", "none" }, { "n-pairs", "batch-hard" },
        { "tuplet", "none" }, { "tuplet", "multi-similarity" },
        { "intra-pair-variance", "none" }, { "intra-pair-variance", "multi-similarity" },
        { "snr-contrastive", "none" }, { "snr-contrastive", "batch-hard" },
    };

    private static IBatchLoss CreateLoss(string name) => name switch
    {
        "nt-xent" => new NTXentLoss(temperature: 0.5),
        "lifted" => new LiftedStructureLoss(),
        "generalized-lifted" => new GeneralizedLiftedStructureLoss(),
        "n-pairs" => new NPairsLoss(),
        "tuplet" => new TupletMarginLoss(margin: 0.1, scale: 8),
        "intra-pair-variance" => new IntraPairVarianceLoss(0.1, 0.1),
        _ => new SignalToNoiseRatioContrastiveLoss(positiveMargin: 0.1, negativeMargin: 1.5),
    };

    private static IMiner? CreateMiner(string name) => name switch
    {
        "multi-similarity" => new MultiSimilarityMiner(epsilon: 0.5),
        "batch-hard" => new BatchHardMiner(),
        _ => null,
    };

    [Theory]
    [MemberData(nameof(Losses))]
    public void Pair_losses_with_and_without_mined_indices(string lossName, string minerName)
    {
        var loss = CreateLoss(lossName);
        var miner = CreateMiner(minerName);
        using var labels = tensor(Labels);
        using var start = GradientCheckTests.Random(10, Labels.Length, 5);
        // The miner picks from the starting point and its choice stays fixed while the loss is probed.
        using var mined = miner?.Mine(start, labels);
        if (miner is not null)
            mined.Should().NotBeNull();

        GradientCheckTests.CheckGradient(x => loss.Compute(x, labels, mined), start, $"{lossName} loss, {minerName} miner");
    }

    /// <summary>
    /// Circle loss holds its pair weights <c>[1 + m − S]₊</c> and <c>[S + m]₊</c> constant in the gradient (the paper's
    /// and PML's gradient), so its gradient is the slope of the loss with the weights frozen at the point: here that
    /// function, written out, is differenced, and must also give the loss's value at the point.
    /// </summary>
    [Theory]
    [InlineData("none")]
    [InlineData("multi-similarity")]
    public void Circle_loss_is_the_slope_with_its_weights_held(string minerName)
    {
        const double m = 0.25, gamma = 16;
        var loss = new CircleLoss(m, gamma);
        var miner = CreateMiner(minerName);
        using var labels = tensor(Labels);
        using var start = GradientCheckTests.Random(10, Labels.Length, 5);
        using var mined = miner?.Mine(start, labels);
        using var scope = NewDisposeScope();
        var (positive, negative) = mined is null ? BatchPairMasks.FromLabels(labels) : mined.PairMasks();
        var held = new CosineSimilarity().ComputeMatrix(start, start);
        var pullWeight = (1 + m - held).relu();
        var pushWeight = (held + m).relu();
        Tensor Frozen(Tensor x)
        {
            var s = new CosineSimilarity().ComputeMatrix(x, x);
            var pull = PairLossMath.MaskedLogSumExp(-gamma * pullWeight * (s - (1 - m)), positive, 0);
            var push = PairLossMath.MaskedLogSumExp(gamma * pushWeight * (s - m), negative, 0);
            var both = positive.any(1).logical_and(negative.any(1));
            var values = nn.functional.softplus(pull + push).masked_fill(both.logical_not(), 0);
            // The default reducer: the mean of the values above 0.
            return values.sum() / values.gt(0).sum();
        }

        Frozen(start).item<double>().Should().BeApproximately(loss.Compute(start, labels, mined).item<double>(), 1e-10, "the same value");
        GradientCheckTests.CheckGradient(Frozen, start, $"circle with frozen weights, {minerName} miner");
        var ours = start.detach().clone().requires_grad_(true);
        loss.Compute(ours, labels, mined).backward();
        var frozen = start.detach().clone().requires_grad_(true);
        Frozen(frozen).backward();
        var expected = frozen.grad!.data<double>().ToArray();
        var actual = ours.grad!.data<double>().ToArray();
        for (int i = 0; i < expected.Length; i++)
            actual[i].Should().BeApproximately(expected[i], 1e-10 + 1e-8 * System.Math.Abs(expected[i]), $"circle, {minerName} miner: d/dx[{i}]");
    }
}
