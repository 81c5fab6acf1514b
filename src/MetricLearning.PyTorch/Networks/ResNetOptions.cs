using System;

namespace MetricLearning.Networks;

/// <summary>
/// The shape and training of a <see cref="ResNetEmbeddingNetwork"/>. Defaults: a ResNet-18 trunk, a 128-wide
/// embedding, no batch-norm neck, L2-normalised embeddings, the trunk trained from the first epoch at a tenth of the
/// head's learning rate.
/// </summary>
public sealed class ResNetOptions
{
    /// <summary>The trunk: 18, 34 or 50 layers, as TorchVision's <c>resnet18</c>, <c>resnet34</c>, <c>resnet50</c>. Default 18.</summary>
    public int Depth { get; set; } = 18;

    /// <summary>Width of the embedding (the linear head after the trunk's global average pool); 1 to 65,536. Default 128.</summary>
    public int EmbeddingSize { get; set; } = 128;

    /// <summary>
    /// A batch normalisation of the embedding after the linear head (the "BN neck" of re-identification models).
    /// Default false.
    /// </summary>
    public bool BatchNormNeck { get; set; }

    /// <summary>Scale each embedding to unit length, so that Euclidean and cosine distances rank alike. Default true.</summary>
    public bool Normalize { get; set; } = true;

    /// <summary>
    /// How many epochs the trunk is frozen at the start of training (its weights and batch-norm statistics kept as
    /// they are, only the head learning); 0 to train it from the first epoch. Default 0.
    /// </summary>
    public int FreezeTrunkEpochs { get; set; }

    /// <summary>
    /// The trunk's learning rate as a multiple of the trainer's (the head learns at the trainer's own rate); positive
    /// and at most 1. Default 0.1, the usual pace for a pretrained trunk.
    /// </summary>
    public double TrunkLearningRateScale { get; set; } = 0.1;

    /// <summary>Width of the trunk's output: 512 for ResNet-18 and -34, 2,048 for ResNet-50.</summary>
    public int TrunkFeatures => Depth == 50 ? 2048 : 512;

    /// <summary>Checks every setting and names the first one that is wrong.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        if (Depth is not (18 or 34 or 50))
            throw new ArgumentOutOfRangeException(nameof(Depth), Depth, "ResNetOptions.Depth must be 18, 34 or 50.");
        if (EmbeddingSize is < 1 or > 65536)
            throw new ArgumentOutOfRangeException(nameof(EmbeddingSize), EmbeddingSize, "ResNetOptions.EmbeddingSize must be between 1 and 65,536.");
        if (FreezeTrunkEpochs is < 0 or > 100_000)
            throw new ArgumentOutOfRangeException(nameof(FreezeTrunkEpochs), FreezeTrunkEpochs, "ResNetOptions.FreezeTrunkEpochs must be between 0 and 100,000.");
        if (!double.IsFinite(TrunkLearningRateScale) || TrunkLearningRateScale <= 0 || TrunkLearningRateScale > 1)
            throw new ArgumentOutOfRangeException(nameof(TrunkLearningRateScale), TrunkLearningRateScale, "ResNetOptions.TrunkLearningRateScale must be above 0 and at most 1.");
    }

    /// <summary>A copy.</summary>
    /// <returns>A new object with the same values.</returns>
    public ResNetOptions Clone() => (ResNetOptions)MemberwiseClone();
}
