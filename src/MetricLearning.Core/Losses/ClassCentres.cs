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
        => Create(classes, embeddingSize, learningRateScale, device, loss, 1, "perClass", CentreInit.Normal);

    /// <summary>
    /// As <see cref="Create(int, long, double, Device?, string)"/>, for losses with <paramref name="perClass"/>
    /// vectors per class: <c>classes · perClass</c> rows, class c's in rows <c>c·perClass</c> to
    /// <c>(c + 1)·perClass − 1</c>, drawn as <paramref name="init"/> says.
    /// </summary>
    internal static Parameter Create(int classes, long embeddingSize, double learningRateScale, Device? device, string loss, int perClass, string perClassName, CentreInit init)
    {
        if (classes < 2)
            throw new ArgumentOutOfRangeException(nameof(classes), classes, $"The {loss} loss needs at least two classes.");
        if (embeddingSize < 1)
            throw new ArgumentOutOfRangeException(nameof(embeddingSize), embeddingSize, "The embedding size must be at least 1.");
        if (!double.IsFinite(learningRateScale) || learningRateScale <= 0)
            throw new ArgumentOutOfRangeException(nameof(learningRateScale), learningRateScale, "The learning-rate scale must be positive and finite.");
        if (perClass < 1)
            throw new ArgumentOutOfRangeException(perClassName, perClass, "There must be at least one vector per class.");
        long rows = (long)classes * perClass;
        if (rows > int.MaxValue)
            throw new ArgumentOutOfRangeException(perClassName, perClass, $"{classes} classes with {perClass} vectors each are too many ({rows}).");
        if (init == CentreInit.Normal)
        {
            using var initial = randn(rows, embeddingSize, device: device);
            return new Parameter(initial.clone());
        }

        // torch.nn.init.kaiming_uniform_(a = √5) of PML's [embeddingSize, rows] layout: U(−1/√rows, 1/√rows).
        double bound = 1 / Math.Sqrt(rows);
        using var uniform = rand(rows, embeddingSize, device: device);
        using var scaled = uniform * (2 * bound) - bound;
        return new Parameter(scaled.clone());
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
