using System;
using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MetricLearning.Networks;

/// <summary>
/// A small convolutional embedding network for small images: for each entry of <see cref="ConvOptions.Channels"/> a
/// 3x3 convolution (padding 1), batch normalisation, ReLU, and a 2x2 max-pool after every block but the last (taken
/// before the ReLU, which gives the same values and gradients with ReLU on a quarter of the values); then global
/// average pooling and a linear layer to the embedding. With default options: 1 → 32 → 64 → 128 channels,
/// linear 128 → 128, the CNN of the PyTorch retrieval yardstick.
/// </summary>
/// <remarks>
/// Takes <c>[N, C, H, W]</c> images of any size of at least 2^(blocks - 1) pixels a side. Weights are PyTorch's
/// default initialisation, drawn from torch's global generator: call <c>torch.manual_seed</c> first for reproducible
/// weights. With <see cref="ConvOptions.ChannelsLast"/> (the default) the input is laid out in channels-last memory
/// order, and with it every activation, which changes no value beyond rounding; ReLU runs in place, so a forward
/// hook on the layer before each ReLU sees values after it. Saved-weights keys follow the layer names
/// (<c>layers.conv1.weight</c>, <c>layers.norm1.running_mean</c>, ..., <c>layers.embed.weight</c>). Batch normalisation behaves differently in training and evaluation: the trainers
/// and <see cref="Models.TrainedModel"/> switch the mode. Not thread-safe; dispose it to free its parameters.
/// </remarks>
public sealed class ConvEmbeddingNetwork : nn.Module<Tensor, Tensor>, IEmbeddingNetwork
{
    private readonly Sequential layers;

    /// <summary>Creates the network on the CPU; move it with <c>to(device)</c>.</summary>
    /// <param name="options">Its shape; null for the defaults.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public ConvEmbeddingNetwork(ConvOptions? options = null)
        : base(nameof(ConvEmbeddingNetwork))
    {
        var requested = options ?? new ConvOptions();
        requested.Validate();
        Options = requested.Clone();

        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        long inputs = Options.InputChannels;
        for (int i = 0; i < Options.Channels.Count; i++)
        {
            int width = Options.Channels[i];
            // The input is laid out channels-last (for one channel, a view: the same memory) so that the first
            // convolution already writes its maps in that order, rather than copying them afterwards.
            if (i == 0 && Options.ChannelsLast)
                modules.Add(("layout", new ChannelsLastLayout()));
            modules.Add(($"conv{i + 1}", nn.Conv2d(inputs, width, 3, padding: 1)));
            if (Options.BatchNorm)
                modules.Add(($"norm{i + 1}", nn.BatchNorm2d(width)));
            // Max-pooling runs before ReLU: ReLU is monotonic, so the two commute (the same values, and the same
            // gradients: both send each window's gradient to its largest input, and none when that is 0 or less),
            // and ReLU then touches a quarter of the values. ReLU runs in place because no layer before it keeps its
            // own output for the backward pass (the pool keeps its input and indices, batch normalisation and the
            // convolution their inputs), and ReLU's backward needs only ReLU's output; one map fewer per block.
            bool pooled = i < Options.Channels.Count - 1;
            if (pooled)
                modules.Add(($"pool{i + 1}", nn.MaxPool2d(2)));
            modules.Add(($"relu{i + 1}", nn.ReLU(inplace: true)));
            inputs = width;
        }

        modules.Add(("average", nn.AdaptiveAvgPool2d(1)));
        modules.Add(("flatten", nn.Flatten()));
        modules.Add(("embed", nn.Linear(inputs, Options.EmbeddingSize)));
        layers = nn.Sequential(modules);
        EmbeddingSize = Options.EmbeddingSize;
        RegisterComponents();
    }

    /// <summary>The options the network was built with (a copy).</summary>
    public ConvOptions Options { get; }

    /// <inheritdoc />
    public long EmbeddingSize { get; }

    /// <inheritdoc />
    public nn.Module<Tensor, Tensor> Module => this;

    /// <summary>Embeds a batch of images <c>[N, InputChannels, H, W]</c> to <c>[N, EmbeddingSize]</c>.</summary>
    /// <param name="input">Float32 images on the network's device.</param>
    /// <exception cref="ArgumentException">The input is not a batch of images with <see cref="ConvOptions.InputChannels"/> channels, or is too small for the pooling.</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4 || input.shape[1] != Options.InputChannels)
            throw new ArgumentException($"The network expects images of shape [N, {Options.InputChannels}, H, W]; got {TensorChecks.Shape(input)}.", nameof(input));
        long smallest = 1L << (Options.Channels.Count - 1);
        if (input.shape[2] < smallest || input.shape[3] < smallest)
            throw new ArgumentException($"Images of {input.shape[2]}x{input.shape[3]} are too small for {Options.Channels.Count} blocks; at least {smallest}x{smallest} are needed.", nameof(input));
        return layers.forward(input);
    }

    /// <summary>How this network is saved with a model: its <see cref="ConvOptions"/>.</summary>
    private sealed class Format : PartFormat<ConvEmbeddingNetwork, ConvOptions>
    {
        public override string Name => nameof(ConvEmbeddingNetwork);

        protected override ConvOptions Describe(ConvEmbeddingNetwork part) => part.Options;

        /// <summary>Builds the CNN after checking that the weights file can hold its parameters.</summary>
        protected override ConvEmbeddingNetwork Create(ConvOptions settings, PartLoadContext context)
        {
            settings.Validate();
            long parameters = settings.ParameterCount();
            if (context.WeightsBytes is long weightsBytes && parameters > weightsBytes / sizeof(float))
                throw new System.IO.InvalidDataException(
                    $"'{context.Source}' describes a CNN of {parameters} parameters, more than its {weightsBytes}-byte weights file holds.");
            return new ConvEmbeddingNetwork(settings);
        }
    }
}
