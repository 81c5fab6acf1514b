using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Models;

/// <summary>
/// A Siamese model: one embedding network shared by both branches, and a distance between the two embeddings.
/// </summary>
/// <remarks>
/// Both branches use the same weights, so a pair's two inputs are embedded in one pass over the stacked batch
/// <c>[first; second]</c>: the same mathematics as two calls (dropout masks stay independent per row), with half
/// the kernel launches. The model does not own the network or the distance; dispose the network yourself.
/// Not thread-safe.
/// </remarks>
public sealed class SiameseNetwork
{
    /// <summary>Creates a Siamese model.</summary>
    /// <param name="embedding">The shared embedding network.</param>
    /// <param name="distance">How the two embeddings of a pair are compared; null for the reference experiment's <see cref="Distances.EuclideanDistance"/>.</param>
    public SiameseNetwork(IEmbeddingNetwork embedding, IDistance? distance = null)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        ArgumentNullException.ThrowIfNull(embedding.Module, $"{nameof(embedding)}.{nameof(IEmbeddingNetwork.Module)}");
        Embedding = embedding;
        Distance = distance ?? new Distances.EuclideanDistance();
    }

    /// <summary>The shared embedding network.</summary>
    public IEmbeddingNetwork Embedding { get; }

    /// <summary>The distance between embeddings.</summary>
    public IDistance Distance { get; }

    /// <summary>The device of the network's first parameter (the CPU for a network without parameters).</summary>
    public Device Device => Embedding.Module.parameters().FirstOrDefault()?.device ?? CPU;

    /// <summary>Distances between the embeddings of <paramref name="first"/>[i] and <paramref name="second"/>[i].</summary>
    /// <param name="first">Float32 inputs <c>[N, ...]</c> on the model's device.</param>
    /// <param name="second">Float32 inputs of the same shape.</param>
    /// <returns>Shape <c>[N]</c>, in the caller's dispose scope.</returns>
    /// <exception cref="ArgumentException">The two batches differ in shape or device.</exception>
    public Tensor ComputeDistances(Tensor first, Tensor second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        TensorChecks.SameShape(first, nameof(first), second, nameof(second));
        TensorChecks.SameDevice(first, nameof(first), second, nameof(second));

        using var stacked = cat(new[] { first, second }, 0);
        return ComputeStackedDistances(stacked);
    }

    /// <summary>
    /// Distances of N pairs given as one stacked batch: rows <c>0..N−1</c> are the first inputs and rows
    /// <c>N..2N−1</c> the second. This is what <see cref="ComputeDistances"/> does after stacking; callers that
    /// gather both halves in one operation save the copy.
    /// </summary>
    /// <param name="stacked">Float32 inputs <c>[2N, ...]</c> on the model's device, N ≥ 1.</param>
    /// <returns>Shape <c>[N]</c>, in the caller's dispose scope.</returns>
    /// <exception cref="ArgumentException">The batch has no rows or an odd number of rows.</exception>
    public Tensor ComputeStackedDistances(Tensor stacked)
    {
        ArgumentNullException.ThrowIfNull(stacked);
        if (stacked.dim() < 1 || stacked.shape[0] == 0 || stacked.shape[0] % 2 != 0)
            throw new ArgumentException(
                $"A stacked pair batch needs an even, non-zero number of rows; its shape is {TensorChecks.Shape(stacked)}.", nameof(stacked));
        using var embeddings = Embedding.Module.call(stacked);
        // chunk's backward is one concatenation; two narrows would each scatter into a zero-filled gradient.
        var halves = embeddings.chunk(2, 0);
        using var firstEmbeddings = halves[0];
        using var secondEmbeddings = halves[1];
        return Distance.Compute(firstEmbeddings, secondEmbeddings);
    }

    /// <summary>Embeds a batch of inputs.</summary>
    /// <param name="inputs">Float32 inputs <c>[N, ...]</c> on the model's device.</param>
    /// <returns>Shape <c>[N, EmbeddingSize]</c>, in the caller's dispose scope.</returns>
    public Tensor Embed(Tensor inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return Embedding.Module.call(inputs);
    }

    /// <summary>Saves the embedding network's weights in TorchSharp's format, atomically (temporary file, then rename).</summary>
    /// <param name="path">Destination file; its folder is created if missing.</param>
    public void SaveWeights(string path)
    {
        AtomicFile.Write(path, temporary => Embedding.Module.save(temporary));
    }

    /// <summary>Loads weights saved by <see cref="SaveWeights"/> into the embedding network.</summary>
    /// <param name="path">A file written by <see cref="SaveWeights"/> for a network of the same shape.</param>
    /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="System.IO.InvalidDataException">The file holds weights of another shape, or is not a weights file.</exception>
    public void LoadWeights(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!System.IO.File.Exists(path))
            throw new System.IO.FileNotFoundException($"No weights file at '{path}'.", path);
        try
        {
            Embedding.Module.load(path);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.IO.IOException or FormatException)
        {
            throw new System.IO.InvalidDataException(
                $"The weights in '{path}' do not fit this embedding network (a different shape or not a TorchSharp weights file): {ex.Message}", ex);
        }
    }
}
