using System;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>The checks shared by losses that hold one learnt vector per class (proxies, class centres).</summary>
internal static class ClassCentres
{
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
        long min = labels.min().item<long>(), max = labels.max().item<long>();
        if (min < 0 || max >= classes)
            throw new ArgumentException($"Label {(min < 0 ? min : max)} is outside the {classes} classes of the {what} (0 to {classes - 1}).", nameof(labels));
    }
}
