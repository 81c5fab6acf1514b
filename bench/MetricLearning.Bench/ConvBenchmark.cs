using System;
using System.Collections.Generic;
using System.Linq;
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
    internal static int Run(int threads, int batch, int steps, bool tuneAllocator, bool channelsFirst = false)
    {
        TorchRuntime.SetThreadCount(threads);
        if (tuneAllocator)
            Console.WriteLine($"TorchRuntime.TuneNativeAllocator(): {TorchRuntime.TuneNativeAllocator()}");
        var culture = CultureInfo.InvariantCulture;
        manual_seed(1);
        using var network = new ConvEmbeddingNetwork(new ConvOptions { ChannelsLast = !channelsFirst });
        Console.WriteLine($"activations: {(channelsFirst ? "channels first (NCHW)" : "channels last from the input on")}; each block pools, then applies ReLU in place");
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

        // Where a step's time goes: the forward pass alone (with autograd recording), forward and backward, and the
        // whole step; the differences are the backward pass and the optimizer. The convolutions' arithmetic, counted
        // by hand, says how close the step is to the machine's rate.
        double forward = 0, backward = 0, whole = 0;
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var clock = Stopwatch.StartNew();
            var loss = network.forward(images).pow(2).mean();
            loss.item<float>();
            forward += clock.Elapsed.TotalMilliseconds;
            loss.backward();
            backward += clock.Elapsed.TotalMilliseconds;
            optimizer.step();
            whole += clock.Elapsed.TotalMilliseconds;
        }

        double flops = 0, channels = 1, side = 28;
        foreach (int width in network.Options.Channels)
        {
            flops += 2 * side * side * width * channels * 9;
            channels = width;
            side = Math.Ceiling(side / 2);
        }

        double stepFlops = 3 * flops * batch;   // forward, and about twice that backward (input and weight gradients)
        Console.WriteLine(string.Create(culture,
            $"breakdown per step: forward {forward / steps:F1} ms, backward {(backward - forward) / steps:F1} ms, optimizer {(whole - backward) / steps:F1} ms; convolutions {stepFlops / 1e9:F1} GFLOP per step, {stepFlops / 1e6 / (whole / steps):F0} GFLOP/s over the whole step"));

        // Each layer alone, in training mode, forward and backward, on the activations it sees in the network (in the
        // network's order, the pool before ReLU, and its layout: channels-last from the input on unless
        // --channels-first). ReLU is timed copying, as a layer alone must (its input here is a leaf that needs a
        // gradient), though the network runs it in place.
        using (var layerScope = NewDisposeScope())
        {
            Tensor x = channelsFirst ? images : images.view(batch, 28, 28, 1).permute(0, 3, 1, 2);
            long inputs = 1;
            int block = 0;
            foreach (int width in network.Options.Channels)
            {
                block++;
                var layers = new (string Name, nn.Module<Tensor, Tensor> Module)[]
                {
                    ($"conv{block} {inputs}->{width} at {x.shape[2]}x{x.shape[3]}", nn.Conv2d(inputs, width, 3, padding: 1)),
                    ($"norm{block}", nn.BatchNorm2d(width)),
                    ($"pool{block}", nn.MaxPool2d(2)),
                    ($"relu{block}", nn.ReLU()),
                };
                foreach (var (name, module) in layers)
                {
                    if (block == network.Options.Channels.Count && name.StartsWith("pool", StringComparison.Ordinal))
                        continue;
                    module.train();
                    var input = x.detach().requires_grad_(block > 1 || !name.StartsWith("conv", StringComparison.Ordinal));
                    Tensor output;
                    using (no_grad())
                        output = module.forward(x);
                    double forwardMs = 0, totalMs = 0;
                    for (int i = 0; i < steps; i++)
                    {
                        using var scope = NewDisposeScope();
                        var clock = Stopwatch.StartNew();
                        var y = module.forward(input);
                        forwardMs += clock.Elapsed.TotalMilliseconds;
                        y.backward(new[] { output });   // any gradient of the right shape and layout
                        totalMs += clock.Elapsed.TotalMilliseconds;
                    }

                    Console.WriteLine(string.Create(culture, $"  {name}: forward {forwardMs / steps:F1} ms, backward {(totalMs - forwardMs) / steps:F1} ms"));
                    x = output;
                }

                inputs = width;
            }
        }

        // The same network's layers three ways: channel-first with ReLU copying (as before ConvOptions.ChannelsLast);
        // channels-last (the input viewed so: TorchSharp has no memory_format argument, but libtorch reads the layout
        // from the strides) with ReLU in place before the pool; and as the network runs them, channels-last with the
        // pool before ReLU (the two commute, so ReLU sees a quarter of the values).
        using (var variantScope = NewDisposeScope())
        {
            var arrangements = new (string Name, bool ChannelsLast, bool PoolFirst)[]
            {
                ("channel-first (NCHW), ReLU copying, then pool", false, false),
                ("channels-last, ReLU in place, then pool", true, false),
                ("channels-last, pool, then ReLU in place", true, true),
            };
            foreach (var (name, channelsLast, poolFirst) in arrangements.Concat(arrangements))
            {
                manual_seed(1);
                var modules = new List<nn.Module<Tensor, Tensor>>();
                long inputs = 1;
                var widths = network.Options.Channels;
                for (int b = 0; b < widths.Count; b++)
                {
                    modules.Add(nn.Conv2d(inputs, widths[b], 3, padding: 1));
                    modules.Add(nn.BatchNorm2d(widths[b]));
                    bool pooled = b < widths.Count - 1;
                    if (pooled && poolFirst)
                        modules.Add(nn.MaxPool2d(2));
                    modules.Add(nn.ReLU(inplace: channelsLast));
                    if (pooled && !poolFirst)
                        modules.Add(nn.MaxPool2d(2));
                    inputs = widths[b];
                }

                var head = nn.Linear(inputs, 128);
                var parameters = modules.SelectMany(m => m.parameters()).Concat(head.parameters()).ToList();
                var adam = optim.Adam(parameters, 1e-3);
                double total = 0;
                for (int i = 0; i < steps * 2; i++)
                {
                    using var scope = NewDisposeScope();
                    var clock = Stopwatch.StartNew();
                    adam.zero_grad();
                    Tensor x = channelsLast ? images.view(batch, 28, 28, 1).permute(0, 3, 1, 2) : images;
                    for (int m = 0; m < modules.Count; m++)
                        x = modules[m].forward(x);

                    var loss = head.forward(x.mean(new long[] { 2, 3 })).pow(2).mean();
                    loss.backward();
                    adam.step();
                    if (i >= steps)
                        total += clock.Elapsed.TotalMilliseconds;
                }

                Console.WriteLine(string.Create(culture, $"  layers {name}: training step {total / steps:F1} ms"));
            }
        }

        // Max-pooling three ways, forward and backward, on the first block's activations.
        using (var poolScope = NewDisposeScope())
        {
            var activations = rand(batch, 32, 28, 28).requires_grad_(true);
            var ways = new (string Name, Func<Tensor, Tensor> Pool)[]
            {
                ("nn.MaxPool2d(2)", x => nn.MaxPool2d(2).forward(x)),
                ("functional.max_pool2d", x => nn.functional.max_pool2d(x, 2)),
                ("max_pool2d on a channels-last copy", x => nn.functional.max_pool2d(x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2), 2)),
                ("view + amax", x => x.view(x.shape[0], x.shape[1], x.shape[2] / 2, 2, x.shape[3] / 2, 2).amax(new long[] { 3, 5 })),
                ("maximum of four strided slices", x =>
                {
                    var rows = x.view(x.shape[0], x.shape[1], x.shape[2] / 2, 2, x.shape[3]);
                    var pairs = maximum(rows.select(3, 0), rows.select(3, 1));
                    var columns = pairs.view(x.shape[0], x.shape[1], x.shape[2] / 2, x.shape[3] / 2, 2);
                    return maximum(columns.select(4, 0), columns.select(4, 1));
                }),
            };
            foreach (var (name, pool) in ways)
            {
                pool(activations).sum().backward();
                double forwardMs = 0, totalMs = 0;
                for (int i = 0; i < steps; i++)
                {
                    using var scope = NewDisposeScope();
                    var clock = Stopwatch.StartNew();
                    var pooled = pool(activations);
                    forwardMs += clock.Elapsed.TotalMilliseconds;
                    pooled.sum().backward();
                    totalMs += clock.Elapsed.TotalMilliseconds;
                }

                Console.WriteLine(string.Create(culture, $"  pool {name}: forward {forwardMs / steps:F1} ms, backward {(totalMs - forwardMs) / steps:F1} ms"));
            }
        }

        network.eval();
        foreach (int size in new[] { 64, 128, 256, 512, 1024 })
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
