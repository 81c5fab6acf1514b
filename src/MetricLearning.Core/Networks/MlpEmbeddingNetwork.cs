using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MetricLearning.Networks;

/// <summary>
/// A multilayer perceptron embedding network: flatten, then for each layer width a dense layer, the activation,
/// and dropout (<see cref="FastDropout"/>, except after the last layer). With default <see cref="MlpOptions"/> it is the reference
/// experiment's base network: 784 → 128 → 128 → 128, ReLU, dropout 0.1, Glorot-uniform weights, zero biases.
/// </summary>
/// <remarks>
/// Weights are drawn from torch's global generator: call <c>torch.manual_seed</c> first for reproducible
/// weights. The saved-weights keys are <c>layers.dense{i}.weight</c> and <c>layers.dense{i}.bias</c>.
/// Not thread-safe; dispose it to free its parameters.
/// </remarks>
public sealed class MlpEmbeddingNetwork : nn.Module<Tensor, Tensor>, IFusedNetwork, IFixedInputShape
{
    private readonly Sequential layers;

    /// <summary>Creates the network on the CPU; move it with <c>to(device)</c>.</summary>
    /// <param name="options">Its shape; null for the reference experiment's MLP.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public MlpEmbeddingNetwork(MlpOptions? options = null)
        : base(nameof(MlpEmbeddingNetwork))
    {
        var requested = options ?? new MlpOptions();
        requested.Validate();
        Options = requested.Clone();

        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        int inputs = Options.InputSize;
        for (int i = 0; i < Options.LayerSizes.Count; i++)
        {
            bool last = i == Options.LayerSizes.Count - 1;
            var dense = nn.Linear(inputs, Options.LayerSizes[i]);
            if (Options.Initialization == WeightInitialization.GlorotUniform)
            {
                using var _ = no_grad();
                nn.init.xavier_uniform_(dense.weight!);
                nn.init.zeros_(dense.bias!);
            }

            modules.Add(($"dense{i + 1}", dense));
            if (!last || Options.ActivateLastLayer)
                modules.Add(($"act{i + 1}", CreateActivation(Options.Activation)));
            if (!last && Options.Dropout > 0)
                modules.Add(($"drop{i + 1}", new FastDropout(Options.Dropout)));
            inputs = Options.LayerSizes[i];
        }

        layers = nn.Sequential(modules);
        EmbeddingSize = inputs;
        RegisterComponents();
    }

    /// <summary>The options the network was built with (a copy).</summary>
    public MlpOptions Options { get; }

    /// <inheritdoc />
    public long EmbeddingSize { get; }

    /// <summary>One input of <see cref="MlpOptions.InputSize"/> values (inputs of any shape with that many values are flattened).</summary>
    public IReadOnlyList<long> InputShape => new long[] { Options.InputSize };

    /// <summary>
    /// The hand-written training pass (<see cref="FusedMlpPass"/>): float32 on the CPU, ReLU, tanh or the identity,
    /// every parameter trainable and contiguous; null, with the reason, otherwise.
    /// </summary>
    /// <param name="inputShape">The shape of one input; it must hold <see cref="MlpOptions.InputSize"/> values.</param>
    /// <param name="device">The inputs' device.</param>
    /// <param name="maxRows">The most inputs one step embeds.</param>
    /// <param name="whyNot">Why the pass does not apply; null when it does.</param>
    public IFusedNetworkPass? CreateFusedPass(IReadOnlyList<long> inputShape, Device device, int maxRows, out string? whyNot)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        ArgumentNullException.ThrowIfNull(device);
        whyNot = FusedMlpPass.WhyNot(this, inputShape, device, maxRows);
        return whyNot is null ? new FusedMlpPass(this, maxRows) : null;
    }

    /// <summary>The dense layers in order, for code that computes the network's pass without autograd.</summary>
    internal IReadOnlyList<Linear> DenseLayers() => layers.children().OfType<Linear>().ToList();

    /// <inheritdoc />
    public nn.Module<Tensor, Tensor> Module => this;

    /// <summary>Embeds a batch: <c>[N, ...]</c> with <c>InputSize</c> features per row after flattening, to <c>[N, EmbeddingSize]</c>.</summary>
    /// <param name="input">Float32 inputs on the network's device.</param>
    /// <exception cref="ArgumentException">The input has no batch dimension or the wrong number of features.</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() < 2)
            throw new ArgumentException($"The network expects a batch of shape [N, ...]; got {TensorChecks.Shape(input)}.", nameof(input));
        long features = 1;
        for (int d = 1; d < input.dim(); d++)
            features *= input.shape[d];
        if (features != Options.InputSize)
            throw new ArgumentException(
                $"The network expects {Options.InputSize} features per input; got shape {TensorChecks.Shape(input)} ({features} features).", nameof(input));

        using var flat = input.dim() == 2 ? input.alias() : input.flatten(1);
        return layers.forward(flat);
    }

    private static nn.Module<Tensor, Tensor> CreateActivation(Activation activation) => activation switch
    {
        Activation.Relu => nn.ReLU(),
        Activation.Tanh => nn.Tanh(),
        Activation.Gelu => nn.GELU(),
        Activation.Identity => nn.Identity(),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation."),
    };

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
            layers.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>How this network is saved with a model: its <see cref="MlpOptions"/>.</summary>
    private sealed class Format : PartFormat<MlpEmbeddingNetwork, MlpOptions>
    {
        public override string Name => nameof(MlpEmbeddingNetwork);

        protected override MlpOptions Describe(MlpEmbeddingNetwork part) => part.Options;

        /// <summary>Builds the MLP after checking that the weights file can hold its parameters.</summary>
        protected override MlpEmbeddingNetwork Create(MlpOptions settings, PartLoadContext context)
        {
            settings.Validate();
            if (context.WeightsBytes is long weightsBytes)
            {
                // Stops adding once past what the file holds, so that no sum of widths can overflow.
                long parameters = 0, inputs = settings.InputSize, limit = weightsBytes / sizeof(float);
                foreach (int width in settings.LayerSizes)
                {
                    if (width > limit || inputs > limit / Math.Max(1, width))
                    {
                        parameters = long.MaxValue;
                        break;
                    }

                    parameters += inputs * width + width;
                    if (parameters > limit)
                        break;
                    inputs = width;
                }

                if (parameters > limit)
                    throw new System.IO.InvalidDataException(
                        $"'{context.Source}' describes an MLP of {parameters} parameters, more than its {weightsBytes}-byte weights file holds.");
            }

            return new MlpEmbeddingNetwork(settings);
        }
    }
}
