using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using MetricLearning.Components;
using MetricLearning.Runtime;
using static TorchSharp.torch;

namespace MetricLearning.Bench;

/// <summary>
/// Each catalogue loss's training step on one fixed batch, as <c>bench/pml-loss-steps.py</c> times
/// pytorch-metric-learning's on the same inputs: the loss's forward pass and its backward pass to the embeddings (and
/// to the loss's own weights), without a miner, in milliseconds (the median of the timed steps).
/// </summary>
/// <remarks>
/// The batch is the retrieval sample's: <c>batch</c> rows in classes of <c>batch / classes</c>, float32, computed from
/// a formula both scripts share (<see cref="Inputs"/>) rather than drawn, so that the two sides see the same numbers.
/// </remarks>
internal static class LossStepBenchmark
{
    /// <summary>x[i, j] = sin(0.37·i + 1.3·j) + 0.5·cos(0.11·(label_i + 1)·j), labels i mod classes; float64 then float32.</summary>
    internal static (Tensor Embeddings, Tensor Labels) Inputs(int batch, int width, int classes)
    {
        var values = new double[batch * width];
        for (int i = 0; i < batch; i++)
        {
            for (int j = 0; j < width; j++)
                values[i * width + j] = Math.Sin(0.37 * i + 1.3 * j) + 0.5 * Math.Cos(0.11 * ((i % classes) + 1) * j);
        }

        var embeddings = tensor(values, new long[] { batch, width }, ScalarType.Float64).to_type(ScalarType.Float32);
        var labels = tensor(Enumerable.Range(0, batch).Select(i => (long)(i % classes)).ToArray());
        return (embeddings, labels);
    }

    internal static int Run(int threads, int batch, int width, int classes, int steps, IReadOnlyList<string> names, string? minerName = null)
    {
        TorchRuntime.EnsureLoaded();
        TorchRuntime.SetThreadCount(threads);
        var (embeddings, labels) = Inputs(batch, width, classes);
        using var _ = embeddings;
        using var __ = labels;
        var culture = CultureInfo.InvariantCulture;
        Console.WriteLine($"loss steps: batch {batch} x {width}, {classes} classes, {threads} threads, {steps} timed steps after 10 warm-up steps, miner: {minerName ?? "none"}");
        foreach (string name in names.Count == 0 ? LossCatalogue.Names : names)
        {
            manual_seed(1);
            var loss = LossCatalogue.Create(name, new LossContext(classes, width));
            using var owned = loss as IDisposable;
            var weights = loss is ITrainableParameters trainable ? trainable.ParameterGroups.SelectMany(g => g.Parameters).ToList() : new List<TorchSharp.Modules.Parameter>();
            var miner = minerName is null ? null : MinerCatalogue.Create(minerName == "auto" ? LossCatalogue.PaperMinerFor(name) ?? "none" : minerName, LossCatalogue.ComparisonFor(name), seed: 1);
            var times = new double[steps];
            for (int step = -10; step < steps; step++)
            {
                var clock = Stopwatch.StartNew();
                using (var scope = NewDisposeScope())
                {
                    var x = embeddings.detach().requires_grad_(true);
                    using var mined = miner?.Mine(embeddings, labels);
                    var value = loss.Compute(x, labels, mined);
                    value.backward();
                    // Read the result, as a training step does (the loss's running total), so that nothing is left queued.
                    x.grad!.sum().item<float>();
                    foreach (var weight in weights)
                        weight.grad?.zero_();
                }

                if (step >= 0)
                    times[step] = clock.Elapsed.TotalMilliseconds;
            }

            Array.Sort(times);
            Console.WriteLine(string.Create(culture, $"loss {name} ms={times[steps / 2]:F3}"));
        }

        return 0;
    }
}
