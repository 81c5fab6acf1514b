using System;
using MetricLearning.Data;
using MetricLearning.Models;
using static TorchSharp.torch;

namespace MetricLearning.Evaluation;

/// <summary>
/// Measures a Siamese model on a set of pairs: their distances, and the share of pairs a threshold classifies right
/// ("same class" when the distance is below the threshold or, for a similarity, above it).
/// </summary>
/// <remarks>
/// Runs with dropout off and no gradient, in chunks of <c>batchSize</c> pairs so that memory stays bounded, and
/// restores the network's training mode afterwards. Not thread-safe (it switches the network's mode).
/// </remarks>
public static class PairEvaluator
{
    /// <summary>The reference experiment's threshold.</summary>
    public const double DefaultThreshold = 0.5;

    /// <summary>
    /// Pair accuracy: the share of pairs whose prediction (<c>distance &lt; threshold</c>, or <c>similarity &gt; threshold</c>
    /// when <see cref="IDistance.IsSimilarity"/>) matches their same-class flag.
    /// </summary>
    /// <param name="model">The model to measure.</param>
    /// <param name="data">Pairs and their inputs, on the model's device.</param>
    /// <param name="threshold">Distance below which (similarity above which) a pair is predicted "same class"; finite.</param>
    /// <param name="batchSize">Pairs per forward pass.</param>
    /// <returns>A value in [0, 1].</returns>
    public static double Accuracy(SiameseNetwork model, PairDataset data, double threshold = DefaultThreshold, int batchSize = 4096)
    {
        if (!double.IsFinite(threshold))
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold must be finite.");
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        using var pairs = new PairTensors(data.Pairs, model.Device);
        return Accuracy(model, data, pairs, threshold, batchSize);
    }

    internal static double Accuracy(SiameseNetwork model, PairDataset data, PairTensors pairs, double threshold, int batchSize)
    {
        using var scope = NewDisposeScope();
        var distances = Distances(model, data, pairs, batchSize);
        // "Same class" is a small distance, or a large similarity.
        var predicted = (model.Distance.IsSimilarity ? distances.gt(threshold) : distances.lt(threshold)).to_type(ScalarType.Float32);
        long correct = predicted.eq(pairs.Same).sum().item<long>();
        return (double)correct / data.Pairs.Count;
    }

    /// <summary>The distance of every pair, in pair order.</summary>
    /// <param name="model">The model to measure.</param>
    /// <param name="data">Pairs and their inputs, on the model's device.</param>
    /// <param name="batchSize">Pairs per forward pass.</param>
    /// <returns>Shape <c>[pairs]</c> on the model's device, in the caller's dispose scope.</returns>
    public static Tensor Distances(SiameseNetwork model, PairDataset data, int batchSize = 4096)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        using var pairs = new PairTensors(data.Pairs, model.Device);
        return Distances(model, data, pairs, batchSize);
    }

    internal static Tensor Distances(SiameseNetwork model, PairDataset data, PairTensors pairs, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var device = model.Device;
        data.Inputs.CheckDevice(device);

        var module = model.Embedding.Module;
        bool wasTraining = module.training;
        module.eval();
        try
        {
            using var _ = no_grad();
            var result = empty(data.Pairs.Count, device: device);
            if (data.Inputs.Count <= 2L * data.Pairs.Count)
            {
                // Without dropout an input's embedding does not depend on its pair, and pairs share inputs (MNIST's
                // 108,400 training pairs use at most 54,210 images 216,800 times): embed every input once, then compare rows.
                using var embeddings = Embedder.EmbedAll(model.Embedding, data.Inputs, 2 * batchSize);
                for (int start = 0; start < data.Pairs.Count; start += batchSize)
                {
                    using var step = NewDisposeScope();
                    int length = Math.Min(batchSize, data.Pairs.Count - start);
                    var d = model.Distance.Compute(
                        embeddings.index_select(0, pairs.First.narrow(0, start, length)),
                        embeddings.index_select(0, pairs.Second.narrow(0, start, length)));
                    result.narrow(0, start, length).copy_(d);
                }

                return result;
            }

            for (int start = 0; start < data.Pairs.Count; start += batchSize)
            {
                using var step = NewDisposeScope();
                int length = Math.Min(batchSize, data.Pairs.Count - start);
                var d = model.ComputeStackedDistances(data.Inputs.Gather(pairs.StackedIndices(start, length)));
                result.narrow(0, start, length).copy_(d);
            }

            return result;
        }
        finally
        {
            module.train(wasTraining);
        }
    }
}
