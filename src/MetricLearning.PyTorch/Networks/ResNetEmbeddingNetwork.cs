using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MetricLearning.Networks;

/// <summary>
/// An embedding network on a TorchVision ResNet-18, -34 or -50 trunk: the ImageNet classifier (<c>fc</c>) is replaced
/// by a linear embedding head, optionally followed by a batch-norm neck, and the embedding is optionally scaled to
/// unit length.
/// </summary>
/// <remarks>
/// <para>
/// Takes <c>[N, 3, H, W]</c> float32 images. The trunk is TorchVision's, layer for layer, so PyTorch's pretrained
/// weights load into it: <see cref="LoadPretrainedTrunk"/> reads a torchvision state_dict
/// (<c>torch.save(torchvision.models.resnet18(weights=...).state_dict(), path)</c>) or a safetensors file, leaving its
/// classifier out. Such weights expect RGB in [0, 1] normalised with ImageNet's per-channel mean and standard
/// deviation (see <see cref="Data.ChannelNormalization.ImageNet"/>).
/// </para>
/// <para>
/// Saved-weights keys: the trunk's under <c>trunk.</c> (<c>trunk.conv1.weight</c>, <c>trunk.layer1.0.bn1.running_mean</c>,
/// ...), the head's under <c>embed.</c> and <c>neck.</c>. Training: the head learns at the trainer's learning rate, the
/// trunk at <see cref="ResNetOptions.TrunkLearningRateScale"/> of it; for the first
/// <see cref="ResNetOptions.FreezeTrunkEpochs"/> epochs the trunk is frozen (no gradients, batch-norm statistics kept).
/// Weights are PyTorch's default initialisation, drawn from torch's global generator. Not thread-safe; dispose it to
/// free its parameters.
/// </para>
/// </remarks>
public sealed class ResNetEmbeddingNetwork : nn.Module<Tensor, Tensor>, IEmbeddingNetwork, ITrainableParameters, IEpochAware
{
    private readonly Sequential trunk;
    private readonly Linear embed;
    private readonly BatchNorm1d? neck;
    private bool trunkFrozen;

    /// <summary>Creates the network on the CPU; move it with <c>to(device)</c>.</summary>
    /// <param name="options">Its shape and training; null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public ResNetEmbeddingNetwork(ResNetOptions? options = null)
        : base(nameof(ResNetEmbeddingNetwork))
    {
        var requested = options ?? new ResNetOptions();
        requested.Validate();
        Options = requested.Clone();

        var resnet = Options.Depth switch
        {
            18 => torchvision.models.resnet18(),
            34 => torchvision.models.resnet34(),
            _ => torchvision.models.resnet50(),
        };

        // The trunk keeps TorchVision's child names (conv1, bn1, relu, maxpool, layer1..layer4, avgpool, flatten) so
        // that its state_dict keys are PyTorch's; the classifier is left out.
        // The classifier is disposed here; the ResNet object itself is left to the collector, whose finaliser frees
        // nothing that its children (now the trunk's) hold.
        var children = resnet.named_children().ToList();
        foreach (var (name, module) in children)
        {
            if (name == "fc")
                module.Dispose();
        }

        trunk = nn.Sequential(children
            .Where(child => child.name != "fc")
            .Select(child => (child.name, (nn.Module<Tensor, Tensor>)child.module))
            .ToList());
        embed = nn.Linear(Options.TrunkFeatures, Options.EmbeddingSize);
        if (Options.BatchNormNeck)
            neck = nn.BatchNorm1d(Options.EmbeddingSize);
        EmbeddingSize = Options.EmbeddingSize;
        RegisterComponents();
    }

    /// <summary>The options the network was built with (a copy).</summary>
    public ResNetOptions Options { get; }

    /// <inheritdoc />
    public long EmbeddingSize { get; }

    /// <inheritdoc />
    public nn.Module<Tensor, Tensor> Module => this;

    /// <summary>The ResNet trunk without its classifier: <c>[N, 3, H, W]</c> to <c>[N, TrunkFeatures]</c>.</summary>
    public nn.Module<Tensor, Tensor> Trunk => trunk;

    /// <summary>True while the trunk is frozen (see <see cref="ResNetOptions.FreezeTrunkEpochs"/>).</summary>
    /// <returns>Whether the trunk is frozen now.</returns>
    /// <remarks>A method, not a property: it is state, not a setting, and a run's identity records settings only.</remarks>
    public bool IsTrunkFrozen() => trunkFrozen;

    /// <summary>The head at the trainer's learning rate and the trunk at its scaled rate (listed even while frozen).</summary>
    /// <remarks>
    /// Both groups are always listed, so that the optimizer knows the trunk's weights from the start; while the trunk
    /// is frozen they receive no gradients and the optimizer leaves them as they are.
    /// </remarks>
    public IReadOnlyList<ParameterGroup> ParameterGroups
    {
        get
        {
            var head = embed.parameters().Concat(neck?.parameters() ?? Enumerable.Empty<Parameter>());
            return
            [
                new ParameterGroup("head", head),
                new ParameterGroup("trunk", trunk.parameters(), Options.TrunkLearningRateScale),
            ];
        }
    }

    /// <summary>Freezes the trunk for the first <see cref="ResNetOptions.FreezeTrunkEpochs"/> epochs, and frees it after.</summary>
    /// <param name="epoch">The epoch about to run, from 1.</param>
    public void BeginEpoch(int epoch)
    {
        bool freeze = epoch <= Options.FreezeTrunkEpochs;
        foreach (var parameter in trunk.parameters())
        {
            parameter.requires_grad = !freeze;
            // Gradients left from earlier training would still be applied by the optimizer (zeroing keeps them as
            // zeros, and weight decay acts on zeros): a frozen parameter has none.
            if (freeze)
                parameter.grad = null;
        }

        trunkFrozen = freeze;
        train(training);
    }

    /// <summary>Sets training or evaluation mode; a frozen trunk stays in evaluation mode, keeping its batch-norm statistics.</summary>
    /// <param name="train">True for training mode.</param>
    public override void train(bool train = true)
    {
        base.train(train);
        if (trunkFrozen && train)
            trunk.eval();
    }

    /// <summary>
    /// Loads a torchvision ResNet's state_dict (or safetensors) into the trunk; the file's classifier (<c>fc.weight</c>,
    /// <c>fc.bias</c>) is left out, and every other trunk tensor must be there with its shape.
    /// </summary>
    /// <param name="path">A file from <c>torch.save(model.state_dict(), path)</c>, or a <c>.safetensors</c> file.</param>
    /// <param name="options">
    /// How the file names the trunk's tensors (a <see cref="PyTorchWeightsOptions.KeyPrefix"/> such as <c>backbone.</c>,
    /// more <see cref="PyTorchWeightsOptions.IgnoredKeys"/>); null for a plain torchvision state_dict. The classifier,
    /// <c>fc.</c> after the prefix, is always left out.
    /// </param>
    /// <exception cref="System.IO.FileNotFoundException">There is no such file.</exception>
    /// <exception cref="WeightsMismatchException">A trunk tensor is missing, the file has one the trunk lacks, or a shape differs; nothing is loaded.</exception>
    /// <exception cref="System.IO.InvalidDataException">The file is not a state_dict this library can read.</exception>
    public void LoadPretrainedTrunk(string path, PyTorchWeightsOptions? options = null)
    {
        var settings = new PyTorchWeightsOptions { Format = options?.Format ?? PyTorchWeightFormat.Auto, KeyPrefix = options?.KeyPrefix ?? "" };
        foreach (string ignored in options?.IgnoredKeys ?? [])
            settings.IgnoredKeys.Add(ignored);
        settings.IgnoredKeys.Add(settings.KeyPrefix + "fc.");
        PyTorchWeights.Load(trunk, path, settings);
    }

    /// <summary>Embeds a batch of images <c>[N, 3, H, W]</c> to <c>[N, EmbeddingSize]</c>.</summary>
    /// <param name="input">Float32 RGB images on the network's device.</param>
    /// <exception cref="ArgumentException">The input is not a batch of three-channel images.</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4 || input.shape[1] != 3)
            throw new ArgumentException($"A ResNet expects RGB images of shape [N, 3, H, W]; got {TensorChecks.Shape(input)}.", nameof(input));
        if (neck is not null && training && input.shape[0] < 2)
            throw new ArgumentException("The batch-norm neck needs at least two images per training batch.", nameof(input));

        using var scope = NewDisposeScope();
        var features = trunk.forward(input);
        var embedded = embed.forward(features);
        if (neck is not null)
            embedded = neck.forward(embedded);
        if (Options.Normalize)
            embedded = nn.functional.normalize(embedded, p: 2, dim: 1);
        return embedded.MoveToOuterDisposeScope();
    }

    /// <summary>How this network is saved with a model: its <see cref="ResNetOptions"/>.</summary>
    private sealed class Format : PartFormat<ResNetEmbeddingNetwork, ResNetOptions>
    {
        public override string Name => nameof(ResNetEmbeddingNetwork);

        protected override ResNetOptions Describe(ResNetEmbeddingNetwork part) => part.Options;

        /// <summary>Builds the ResNet after checking that the weights file can hold its trunk.</summary>
        protected override ResNetEmbeddingNetwork Create(ResNetOptions settings, PartLoadContext context)
        {
            settings.Validate();
            // The smallest trunk, ResNet-18, has 11.2 million parameters: a weights file much smaller cannot be one.
            const long smallestTrunk = 11_000_000;
            long head = (long)settings.TrunkFeatures * settings.EmbeddingSize;
            if (context.WeightsBytes is long weightsBytes && smallestTrunk + head > weightsBytes / sizeof(float))
                throw new System.IO.InvalidDataException(
                    $"'{context.Source}' describes a ResNet-{settings.Depth} with a {settings.EmbeddingSize}-wide head, more than its {weightsBytes}-byte weights file holds.");
            return new ResNetEmbeddingNetwork(settings);
        }
    }
}
