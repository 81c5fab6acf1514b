using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Models;
using MetricLearning.Tests.TestSupport;
using MetricLearning.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Training;

/// <summary>
/// A network the library has never heard of takes the fused step by implementing <see cref="IFusedNetwork"/>: the
/// trainer asks the seam, not the type.
/// </summary>
public sealed class FusedSeamTests
{
    /// <summary>A linear map without bias, <c>e = W·x</c>, with its training pass written out by hand: <c>∂L/∂W = Gᵀ·X</c>.</summary>
    private sealed class LinearNetwork : nn.Module<Tensor, Tensor>, IFusedNetwork
    {
        private readonly Linear linear;

        private readonly bool _decline;

        public LinearNetwork(int inputs, int outputs, bool decline = false)
            : base(nameof(LinearNetwork))
        {
            _decline = decline;
            linear = nn.Linear(inputs, outputs, hasBias: false);
            RegisterComponents();
        }

        /// <summary>How many hand-written forward passes ran.</summary>
        public int FusedForwards { get; set; }

        public long EmbeddingSize => linear.weight!.shape[0];

        public nn.Module<Tensor, Tensor> Module => this;

        public override Tensor forward(Tensor input) => linear.forward(input);

        public IFusedNetworkPass? CreateFusedPass(IReadOnlyList<long> inputShape, Device device, int maxRows, out string? whyNot)
        {
            whyNot = _decline ? "this one declines, for the test"
                : inputShape.Count == 1 && inputShape[0] == linear.weight!.shape[1] ? null : "the inputs are not flat rows of the right width";
            return whyNot is null ? new Pass(this, linear.weight!, maxRows) : null;
        }

        private sealed class Pass : IFusedNetworkPass
        {
            private readonly LinearNetwork _owner;
            private readonly Parameter _weight;
            private readonly Tensor _inputs;
            private readonly Tensor _outputs;
            private readonly Tensor _gradient;

            public Pass(LinearNetwork owner, Parameter weight, int maxRows)
            {
                _owner = owner;
                _weight = weight;
                MaxRows = maxRows;
                _inputs = zeros(maxRows, weight.shape[1]).DetachFromDisposeScope();
                _outputs = zeros(maxRows, weight.shape[0]).DetachFromDisposeScope();
                _gradient = zeros(maxRows, weight.shape[0]).DetachFromDisposeScope();
            }

            public int MaxRows { get; }

            public int EmbeddingWidth => (int)_weight.shape[0];

            public Tensor Inputs(int rows) => _inputs.narrow(0, 0, rows);

            public Tensor Forward(int rows)
            {
                _owner.FusedForwards++;
                var output = _outputs.narrow(0, 0, rows);
                output.addmm_(Inputs(rows), _weight.t(), beta: 0);
                return output;
            }

            public Tensor EmbeddingGradient(int rows) => _gradient.narrow(0, 0, rows);

            public void Backward(int rows)
            {
                _weight.grad ??= zeros_like(_weight).DetachFromDisposeScope();
                _weight.grad.addmm_(EmbeddingGradient(rows).t(), Inputs(rows), beta: 0);
            }

            public void Dispose()
            {
                _inputs.Dispose();
                _outputs.Dispose();
                _gradient.Dispose();
            }
        }
    }

    [Fact]
    public void A_network_of_the_users_own_with_a_hand_written_pass_trains_on_the_fused_step_as_autograd_does()
    {
        var (inputs, labels) = Blobs.Create(perClass: 30, classes: 3, dimensions: 5, seed: 2);
        using var _ = inputs;
        var data = new PairDataset(inputs, new AlternatingPairSampler(4).Sample(labels));

        (double[] Losses, float[] Weights, int FusedForwards, string Step) Run(bool fused)
        {
            var logger = new RecordingLogger();
            manual_seed(6);
            using var network = new LinearNetwork(5, 3);
            var options = new TrainerOptions { Epochs = 4, BatchSize = 16, Seed = 1, FusedStep = fused, Optimizer = OptimizerSettings.Sgd(0.05) };
            var losses = new SiameseTrainer(new ContrastiveLoss(), options) { Logger = logger }
                .Fit(new SiameseNetwork(network, new EuclideanDistance()), data).Select(e => e.Loss).ToArray();
            string step = logger.Events.Single(e => e.Id == TrainingTelemetry.StepChosen).Message;
            return (losses, network.parameters().SelectMany(Tensors.Values).ToArray(), network.FusedForwards, step);
        }

        var fused = Run(fused: true);
        var generic = Run(fused: false);

        fused.Step.Should().Contain("fused step");
        fused.FusedForwards.Should().BeGreaterThan(0, "the network's own hand-written pass ran");
        generic.FusedForwards.Should().Be(0);
        fused.Losses.Should().Equal(generic.Losses, (a, b) => Math.Abs(a - b) <= 1e-4 * Math.Max(1, Math.Abs(b)));
        fused.Weights.Should().Equal(generic.Weights, (a, b) => Math.Abs(a - b) <= 1e-5f);
        fused.Losses[^1].Should().BeLessThan(fused.Losses[0], "it learns");
    }

    [Fact]
    public void A_network_that_declines_its_pass_trains_on_autograd_and_the_log_says_why()
    {
        var (inputs, labels) = Blobs.Create(perClass: 10, classes: 2, dimensions: 5, seed: 3);
        using var _ = inputs;
        var data = new PairDataset(inputs, new AlternatingPairSampler(4).Sample(labels));
        var logger = new RecordingLogger();
        manual_seed(6);
        using var network = new LinearNetwork(5, 3, decline: true);

        new SiameseTrainer(new ContrastiveLoss(), new TrainerOptions { Epochs = 1, BatchSize = 8 }) { Logger = logger }
            .Fit(new SiameseNetwork(network, new EuclideanDistance()), data);

        network.FusedForwards.Should().Be(0);
        logger.Events.Single(e => e.Id == TrainingTelemetry.StepChosen).Message.Should().Contain("autograd step").And.Contain("declines, for the test");
    }
}
