using System;
using System.Linq;
using FluentAssertions;
using MetricLearning.Training;
using MetricLearning.Tests.TestSupport;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Training;

public sealed class RmsPropOptimizerTests
{
    /// <summary>Two small linear layers with the same starting weights.</summary>
    private static (nn.Module<Tensor, Tensor> Ours, nn.Module<Tensor, Tensor> Reference) Twins()
    {
        manual_seed(21);
        var ours = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3));
        manual_seed(21);
        var reference = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3));
        return (ours, reference);
    }

    [Fact]
    public void Steps_follow_torchsharps_own_rmsprop()
    {
        var (ours, reference) = Twins();
        using var optimizer = new RmsPropOptimizer(ours.parameters(), learningRate: 0.01, rho: 0.9, epsilon: 1e-7);
        using var torchOptimizer = optim.RMSProp(reference.parameters(), lr: 0.01, alpha: 0.9, eps: 1e-7);
        manual_seed(3);
        var batches = Enumerable.Range(0, 5).Select(_ => (x: randn(8, 5), y: randn(8, 3))).ToList();

        foreach (var (x, y) in batches)
        {
            optimizer.ZeroGrad();
            nn.functional.mse_loss(ours.call(x), y).backward();
            optimizer.Step();

            torchOptimizer.zero_grad();
            nn.functional.mse_loss(reference.call(x), y).backward();
            torchOptimizer.step();
        }

        var mine = ours.parameters().Select(Tensors.Values).ToList();
        var theirs = reference.parameters().Select(Tensors.Values).ToList();
        for (int p = 0; p < mine.Count; p++)
            mine[p].Should().Equal(theirs[p], (a, b) => Math.Abs(a - b) < 1e-6f, $"parameter {p}");
        Tensors.Values(ours.parameters().First()).Should().NotEqual(Tensors.Values(Twins().Ours.parameters().First()), "the weights moved");
    }

    [Fact]
    public void Steps_over_many_parameters_follow_torchsharps_own_rmsprop()
    {
        // 1,000+ values: the CPU pass works in vectors, with a remainder; the small twins above check the remainder alone.
        manual_seed(22);
        var ours = nn.Linear(37, 29);
        manual_seed(22);
        var reference = nn.Linear(37, 29);
        using var optimizer = new RmsPropOptimizer(ours.parameters(), learningRate: 0.01, rho: 0.9, epsilon: 1e-7);
        using var torchOptimizer = optim.RMSProp(reference.parameters(), lr: 0.01, alpha: 0.9, eps: 1e-7);
        manual_seed(4);
        for (int step = 0; step < 5; step++)
        {
            var x = randn(16, 37);
            var y = randn(16, 29);
            optimizer.ZeroGrad();
            nn.functional.mse_loss(ours.call(x), y).backward();
            optimizer.Step();
            torchOptimizer.zero_grad();
            nn.functional.mse_loss(reference.call(x), y).backward();
            torchOptimizer.step();
        }

        Tensors.Values(ours.weight!).Should().Equal(Tensors.Values(reference.weight!), (a, b) => Math.Abs(a - b) < 1e-6f);
        Tensors.Values(ours.bias!).Should().Equal(Tensors.Values(reference.bias!), (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    [Fact]
    public void One_step_matches_the_formula_by_hand()
    {
        // v = 0.1 g^2, theta -= lr g / (sqrt(v) + eps). With g = 2 (d/dw of w*2): v = 0.4, step = 0.1*2/(sqrt(0.4)+1e-7).
        var w = new TorchSharp.Modules.Parameter(tensor(new[] { 1f }));
        using var optimizer = new RmsPropOptimizer(new[] { w }, learningRate: 0.1, rho: 0.9, epsilon: 1e-7);

        optimizer.ZeroGrad();
        (w * 2).sum().backward();
        optimizer.Step();

        double expected = 1 - 0.1 * 2 / (Math.Sqrt(0.4) + 1e-7);
        w.item<float>().Should().BeApproximately((float)expected, 1e-6f);
    }

    [Fact]
    public void Parameters_without_gradient_stay_put_and_finite()
    {
        var w = new TorchSharp.Modules.Parameter(tensor(new[] { 1f, 2f }));
        using var optimizer = new RmsPropOptimizer(new[] { w });

        for (int i = 0; i < 3; i++)
        {
            optimizer.ZeroGrad();
            (w * 0).sum().backward();
            optimizer.Step();
        }

        Tensors.Values(w).Should().Equal(1f, 2f);
    }

    [Fact]
    public void Parameters_of_mixed_dtypes_are_refused()
    {
        var a = new TorchSharp.Modules.Parameter(zeros(2));
        var b = new TorchSharp.Modules.Parameter(zeros(new long[] { 2 }, dtype: ScalarType.Float64));

        var act = () => new RmsPropOptimizer(new[] { a, b });

        act.Should().Throw<ArgumentException>().WithMessage("*one dtype and device*Float32*Float64*");
    }

    [Theory]
    [InlineData(0.0, 0.9, 1e-7, "learningRate")]
    [InlineData(1e-3, 1.0, 1e-7, "rho")]
    [InlineData(1e-3, 0.9, 0.0, "epsilon")]
    public void Settings_out_of_range_are_refused(double lr, double rho, double epsilon, string name)
    {
        var act = () => new RmsPropOptimizer(new[] { new TorchSharp.Modules.Parameter(zeros(1)) }, lr, rho, epsilon);

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName(name);
    }
}
