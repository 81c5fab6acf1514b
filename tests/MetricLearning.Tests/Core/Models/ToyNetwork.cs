using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Models;

/// <summary>
/// A network added the way a built-in one is: this one file, with its format nested in it. Nothing is registered:
/// saving records this assembly, and loading finds the format there.
/// </summary>
public sealed class ToyNetwork : nn.Module<Tensor, Tensor>, IEmbeddingNetwork
{
    private readonly Linear linear;

    /// <summary>A single linear map of <paramref name="settings"/>' sizes, with its output scaled by <see cref="ToySettings.Gain"/>.</summary>
    public ToyNetwork(ToySettings settings)
        : base(nameof(ToyNetwork))
    {
        if (settings.Inputs < 1 || settings.Outputs < 1)
            throw new ArgumentOutOfRangeException(nameof(settings), "A toy network needs at least one input and one output.");
        Settings = settings;
        linear = nn.Linear(settings.Inputs, settings.Outputs);
        RegisterComponents();
    }

    /// <summary>What the network was built with.</summary>
    public ToySettings Settings { get; }

    /// <inheritdoc />
    public long EmbeddingSize => Settings.Outputs;

    /// <inheritdoc />
    public nn.Module<Tensor, Tensor> Module => this;

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => linear.forward(input) * Settings.Gain;

    /// <summary>The toy network's settings.</summary>
    /// <param name="Inputs">Input width.</param>
    /// <param name="Outputs">Embedding width.</param>
    /// <param name="Gain">Factor applied to the output.</param>
    public sealed record ToySettings(int Inputs, int Outputs, double Gain);

    private sealed class Format : PartFormat<ToyNetwork, ToySettings>
    {
        public override string Name => "Tests.ToyNetwork";

        protected override ToySettings Describe(ToyNetwork part) => part.Settings;

        protected override ToyNetwork Create(ToySettings settings, PartLoadContext context) => new(settings);
    }
}
