using System;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Mnist;

/// <summary>
/// The documented Siamese MLP on MNIST (Keras' <c>mnist_siamese.py</c>, after Hadsell et al. 2006), assembled from
/// the core seams: <see cref="MlpEmbeddingNetwork"/> 784-128-128-128 (ReLU, dropout 0.1, Glorot uniform),
/// <see cref="EuclideanDistance"/> with a 1e-7 floor, <see cref="ContrastiveLoss"/> with margin 1,
/// <see cref="AlternatingPairSampler"/>, and RMSprop (lr 0.001, rho 0.9, epsilon 1e-7), batch 128, 20 epochs.
/// </summary>
public static class SiameseMnistPreset
{
    /// <summary>The embedding network's shape: 784 → 128 → 128 → 128, ReLU, dropout 0.1, Glorot uniform.</summary>
    public static MlpOptions NetworkOptions() => new();

    /// <summary>The embedding network's shape for images of another size: <paramref name="inputSize"/> → 128 → 128 → 128.</summary>
    /// <param name="inputSize">Pixels per image (<see cref="MnistSplit.InputSize"/>); at least 1.</param>
    public static MlpOptions NetworkOptions(int inputSize) => new() { InputSize = inputSize };

    /// <summary>The reference training settings, with the given seed.</summary>
    /// <param name="seed">Seed of the shuffles and dropout.</param>
    public static TrainerOptions TrainerOptions(int seed = AlternatingPairSampler.DefaultSeed) => new() { Seed = seed };

    /// <summary>Creates the embedding network with weights drawn after <c>torch.manual_seed(seed)</c>, on <paramref name="device"/>.</summary>
    /// <param name="seed">Seed of the weight initialisation.</param>
    /// <param name="device">Where the weights live.</param>
    public static MlpEmbeddingNetwork CreateNetwork(int seed, Device device) => CreateNetwork(seed, device, MnistSplit.PixelsPerImage);

    /// <summary>Creates the embedding network for images of <paramref name="inputSize"/> pixels, with weights drawn after <c>torch.manual_seed(seed)</c>.</summary>
    /// <param name="seed">Seed of the weight initialisation.</param>
    /// <param name="device">Where the weights live.</param>
    /// <param name="inputSize">Pixels per image (<see cref="MnistSplit.InputSize"/>); at least 1.</param>
    public static MlpEmbeddingNetwork CreateNetwork(int seed, Device device, int inputSize)
    {
        ArgumentNullException.ThrowIfNull(device);
        manual_seed(seed);
        var network = new MlpEmbeddingNetwork(NetworkOptions(inputSize));
        network.to(device);
        return network;
    }

    /// <summary>The Siamese model over <paramref name="network"/> with the reference distance.</summary>
    /// <param name="network">The shared embedding network.</param>
    public static SiameseNetwork CreateModel(IEmbeddingNetwork network) => new(network, new EuclideanDistance());

    /// <summary>The reference loss: contrastive, margin 1.</summary>
    public static ContrastiveLoss CreateLoss() => new();

    /// <summary>The reference pairs of one split: 108,400 on the training split, 17,820 on the test split.</summary>
    /// <param name="split">The split.</param>
    /// <param name="inputs">The split's images, as <see cref="MnistSplit.ToInputSet"/> returns them.</param>
    /// <param name="seed">Seed of the choice of the different class.</param>
    public static PairDataset CreatePairs(MnistSplit split, InputSet inputs, int seed)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(inputs);
        return new PairDataset(inputs, new AlternatingPairSampler(seed).Sample(split.Labels));
    }
}
