using System;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>The checks shared by losses that hold one learnt vector per class (proxies, class centres).</summary>
internal static class ClassCentres
{
    /// <summary>
    /// Checks the settings every such loss has and draws its class vectors from a normal distribution (torch's
    /// generator: seed it with <c>manual_seed</c>).
    /// </summary>
    internal static Parameter Create(int classes, long embeddingSize, double learningRateScale, Device? device, string loss)
    {
        if (classes < 2)
            throw new ArgumentOutOfRangeException(nameof(classes), classes, $"The {loss} loss needs at least two classes.");
        if (embeddingSize < 1)
            throw new ArgumentOutOfRangeException(nameof(embeddingSize), embeddingSize, "The embedding size must be at least 1.");
        if (!double.IsFinite(learningRateScale) || learningRateScale <= 0)
            throw new ArgumentOutOfRangeException(nameof(learningRateScale), learningRateScale, "The learning-rate scale must be positive and finite.");
        using var initial = randn(classes, embeddingSize, device: device);
        return new Parameter(initial.clone());
    }

    /// <summary>Cosine similarity of every embedding with every class vector, <c>[N, classes]</c>; call in a dispose scope.</summary>
    internal static Tensor Cosines(Tensor embeddings, Tensor centres)
        => nn.functional.normalize(embeddings, p: 2, dim: 1).matmul(nn.functional.normalize(centres, p: 2, dim: 1).t());

    /// <summary>
    /// Checks the batch, that the embeddings match the class vectors in width and device, and that every label is a
    /// class number below <paramref name="classes"/> (which reads the labels' range from the device).
    /// </summary>
    internal static void Check(Tensor embeddings, Tensor labels, Tensor centres, int classes, string what)
    {
        BatchPairMasks.Validate(embeddings, labels, null);
        TensorChecks.SameDevice(embeddings, nameof(embeddings), centres, "the " + what);
        if (embeddings.shape[1] != centres.shape[1])
            throw new ArgumentException($"The embeddings are {embeddings.shape[1]} wide but the {what} {centres.shape[1]}.", nameof(embeddings));
        var (min, max) = TensorChecks.Range(labels);
        if (min < 0 || max >= classes)
            throw new ArgumentException($"Label {(min < 0 ? min : max)} is outside the {classes} classes of the {what} (0 to {classes - 1}).", nameof(labels));
    }
}
