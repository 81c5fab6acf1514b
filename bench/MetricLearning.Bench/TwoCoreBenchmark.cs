using System;
using System.Diagnostics;
using System.Threading;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Networks;
using MetricLearning.Training;
using MetricLearning.Runtime;
using static TorchSharp.torch;

namespace MetricLearning.Bench;

/// <summary>
/// What a second core can add to the reference experiment's fused training step on this machine. Times, per step of
/// 128 pairs: the whole step on one torch thread and on two; the two halves (64 pairs each) as data-parallel workers
/// on one torch thread each, meeting at a barrier twice per step (then the optimizer); one half alone on one thread;
/// and two halves running at once on two threads with no synchronisation at all, which bounds what any split of the
/// work across the two cores can reach. Rounds alternate, so the figures of one line share the machine's state. Both
/// halves write the same gradient tensors: the figures are times, and the gradients of the halves are never used.
/// </summary>
internal static class TwoCoreBenchmark
{
    internal static int Run(int steps, int rounds)
    {
        TorchRuntime.EnsureLoaded();
        const int Pairs = 128, Rows = 2 * Pairs, Images = 60_000;
        manual_seed(1);
        using var inputs = new InputSet(randint(0, 256, new long[] { Images, 784 }, dtype: ScalarType.Byte), 1f / 255);
        using var network = new MlpEmbeddingNetwork();
        var model = new MetricLearning.Models.SiameseNetwork(network, new EuclideanDistance());
        var loss = new ContrastiveLoss();
        using var optimizer = new RmsPropOptimizer(network.parameters());
        using var same = randint(0, 2, new long[] { Pairs }, dtype: ScalarType.Float32);
        using var sameHalf = randint(0, 2, new long[] { Pairs / 2 }, dtype: ScalarType.Float32);
        network.train();
        using var full = FusedPairStep.TryCreate(model, loss, inputs, Pairs, out _)!;
        var halves = new[] { FusedPairStep.TryCreate(model, loss, inputs, Pairs / 2, out _)!, FusedPairStep.TryCreate(model, loss, inputs, Pairs / 2, out _)! };
        var indexSets = new Tensor[steps];
        var halfIndex = new Tensor[steps, 2];
        for (int i = 0; i < steps; i++)
        {
            indexSets[i] = randint(0, Images, new long[] { Rows }, dtype: ScalarType.Int64);
            halfIndex[i, 0] = randint(0, Images, new long[] { Rows / 2 }, dtype: ScalarType.Int64);
            halfIndex[i, 1] = randint(0, Images, new long[] { Rows / 2 }, dtype: ScalarType.Int64);
        }
        // The reduction a data-parallel step would need: the second worker's weight gradients added to the first's
        // (the first layer's, by far the largest, stands for all).
        using var firstGradient = zeros(128, 784);
        using var secondGradient = zeros(128, 784);

        double Serial(int threads)
        {
            TorchRuntime.SetThreadCount(threads);
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < steps; i++)
            {
                using var scope = NewDisposeScope();
                full.Step(inputs, indexSets[i], same);
                optimizer.Step();
            }
            return clock.Elapsed.TotalMilliseconds / steps;
        }

        double Parallel()
        {
            TorchRuntime.SetThreadCount(1);
            using var go = new Barrier(2);
            var worker = new Thread(() =>
            {
                using var ng = no_grad();
                for (int i = 0; i < steps; i++)
                {
                    go.SignalAndWait();
                    using var scope = NewDisposeScope();
                    halves[1].Step(inputs, halfIndex[i, 1], sameHalf);
                    go.SignalAndWait();
                }
            });
            worker.Start();
            var clock = Stopwatch.StartNew();
            using var noGrad = no_grad();
            for (int i = 0; i < steps; i++)
            {
                go.SignalAndWait();
                using var scope = NewDisposeScope();
                halves[0].Step(inputs, halfIndex[i, 0], sameHalf);
                go.SignalAndWait();
                firstGradient.add_(secondGradient);
                optimizer.Step();
            }
            double ms = clock.Elapsed.TotalMilliseconds / steps;
            worker.Join();
            return ms;
        }

        double Independent()
        {
            TorchRuntime.SetThreadCount(1);
            var worker = new Thread(() =>
            {
                using var ng = no_grad();
                for (int i = 0; i < steps; i++)
                {
                    using var scope = NewDisposeScope();
                    halves[1].Step(inputs, halfIndex[i, 1], sameHalf);
                }
            });
            var clock = Stopwatch.StartNew();
            worker.Start();
            using var noGrad = no_grad();
            for (int i = 0; i < steps; i++)
            {
                using var scope = NewDisposeScope();
                halves[0].Step(inputs, halfIndex[i, 0], sameHalf);
            }
            worker.Join();
            return clock.Elapsed.TotalMilliseconds / steps;
        }

        double HalfAlone()
        {
            TorchRuntime.SetThreadCount(1);
            var clock = Stopwatch.StartNew();
            using var noGrad = no_grad();
            for (int i = 0; i < steps; i++)
            {
                using var scope = NewDisposeScope();
                halves[0].Step(inputs, halfIndex[i, 0], sameHalf);
            }
            return clock.Elapsed.TotalMilliseconds / steps;
        }

        Console.WriteLine($"ms per step of {Pairs} pairs (784 -> 128 -> 128 -> 128, fused step, RMSprop), {steps} steps per figure; {Environment.ProcessorCount} cores");
        Console.WriteLine("| round | whole step, 1 thread | whole step, 2 threads | halves as 2 workers + barrier | one half alone, 1 thread | two halves at once, no synchronisation |");
        Console.WriteLine("|---|---|---|---|---|---|");
        for (int r = 1; r <= rounds; r++)
            Console.WriteLine(FormattableString.Invariant($"| {r} | {Serial(1):F3} | {Serial(2):F3} | {Parallel():F3} | {HalfAlone():F3} | {Independent():F3} |"));
        foreach (var step in halves)
            step.Dispose();
        foreach (var set in indexSets)
            set.Dispose();
        foreach (var set in halfIndex)
            set.Dispose();
        return 0;
    }
}
