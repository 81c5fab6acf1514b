using System;
using System.Diagnostics;
using System.Globalization;
using MetricLearning.Networks;
using MetricLearning.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Bench;

/// <summary>
/// The small CNN alone, without the trainer: a training step (forward, a simple loss, backward, Adam) on a batch of
/// 28x28 images, and the evaluation forward pass per image at several batch sizes.
/// </summary>
internal static class ConvBenchmark
{
    internal static int Run(int threads, int batch, int steps, bool tuneAllocator)
    {
        TorchRuntime.SetThreadCount(threads);
        if (tuneAllocator)
            Console.WriteLine($"TorchRuntime.TuneNativeAllocator(): {TorchRuntime.TuneNativeAllocator()}");
        var culture = CultureInfo.InvariantCulture;
        manual_seed(1);
        using var network = new ConvEmbeddingNetwork();
        var optimizer = optim.Adam(network.parameters(), 1e-3);
        using var images = rand(batch, 1, 28, 28);
        network.train();
        for (int round = 0; round < 2; round++)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < steps; i++)
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                var loss = network.forward(images).pow(2).mean();
                loss.backward();
                optimizer.step();
            }

            Console.WriteLine(string.Create(culture, $"{(round == 0 ? "warm-up" : "timed")}: training step on {batch} images: {clock.Elapsed.TotalMilliseconds / steps:F1} ms ({threads} thread(s))"));
        }

        network.eval();
        foreach (int size in new[] { 256, 1024, 4096 })
        {
            using var block = rand(size, 1, 28, 28);
            using (no_grad())
            {
                using var warm = NewDisposeScope();
                network.forward(block);
            }

            var clock = Stopwatch.StartNew();
            using (no_grad())
            {
                for (int i = 0; i < 3; i++)
                {
                    using var scope = NewDisposeScope();
                    network.forward(block);
                }
            }

            Console.WriteLine(string.Create(culture, $"evaluation forward, batches of {size}: {clock.Elapsed.TotalMilliseconds * 1000 / 3 / size:F1} us per image"));
        }

        return 0;
    }
}
