using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Mining;
using MetricLearning.Networks;
using MetricLearning.Runtime;
using MetricLearning.Training;
using static TorchSharp.torch;

namespace MetricLearning.Bench;

/// <summary>
/// Where one step of the reference experiment's training pass spends its time: the step is taken apart into its
/// phases (gather the pairs' inputs, forward, distance and loss, zero the gradients, backward, optimizer), each timed
/// over many steps, beside the bare matrix products the step needs (written into preallocated results), which are
/// the floor any implementation of the step pays.
/// </summary>
internal static class StepProfileBenchmark
{
    internal static int Run(int threads, int steps)
    {
        var culture = CultureInfo.InvariantCulture;
        TorchRuntime.EnsureLoaded();
        TorchRuntime.SetThreadCount(threads);
        const int Pairs = 128, Rows = 2 * Pairs, Images = 60_000;
        manual_seed(1);
        // MNIST-like inputs: bytes, scaled by 1/255 when gathered; the contents do not change the work.
        using var inputs = new InputSet(randint(0, 256, new long[] { Images, 784 }, dtype: ScalarType.Byte), 1f / 255);
        using var network = new MlpEmbeddingNetwork();
        var model = new MetricLearning.Models.SiameseNetwork(network, new EuclideanDistance());
        var loss = new ContrastiveLoss();
        using var optimizer = new RmsPropOptimizer(network.parameters());
        using var same = randint(0, 2, new long[] { Pairs }, dtype: ScalarType.Float32);
        network.train();

        double gather = 0, forward = 0, lossTime = 0, zero = 0, backward = 0, step = 0, whole = 0;
        var countsAutograd = Snapshot();
        for (int round = 0; round < 2; round++)
        {
            countsAutograd = Snapshot();
            gather = forward = lossTime = zero = backward = step = whole = 0;
            for (int i = 0; i < steps; i++)
            {
                using var scope = NewDisposeScope();
                using var indices = randint(0, Images, new long[] { Rows }, dtype: ScalarType.Int64);
                var clock = Stopwatch.StartNew();
                var batch = inputs.Gather(indices);
                double t0 = clock.Elapsed.TotalMilliseconds;
                var embeddings = network.forward(batch);
                double t1 = clock.Elapsed.TotalMilliseconds;
                var halves = embeddings.chunk(2, 0);
                var value = loss.Compute(model.Distance.Compute(halves[0], halves[1]), same);
                double t2 = clock.Elapsed.TotalMilliseconds;
                optimizer.ZeroGrad();
                double t3 = clock.Elapsed.TotalMilliseconds;
                value.backward();
                double t4 = clock.Elapsed.TotalMilliseconds;
                optimizer.Step();
                double t5 = clock.Elapsed.TotalMilliseconds;
                gather += t0;
                forward += t1 - t0;
                lossTime += t2 - t1;
                zero += t3 - t2;
                backward += t4 - t3;
                step += t5 - t4;
                whole += t5;
            }
        }

        Console.WriteLine(string.Create(culture, $"Reference experiment (pair path), threads={threads} steps={steps}, ms per step of {Pairs} pairs ({Rows} rows), autograd:"));
        void Line(string name, double total) =>
            Console.WriteLine(string.Create(culture, $"  {name,-34} {total / steps,7:F3} ms  {100 * total / whole,5:F1}%"));
        Line("gather inputs", gather);
        Line("forward (3 layers)", forward);
        Line("distance + loss", lossTime);
        Line("zero gradients", zero);
        Line("backward", backward);
        Line("optimizer (RMSprop)", step);
        Line("whole step", whole);
        Counted(countsAutograd, steps);

        // The fused step (TrainerOptions.FusedStep): the same step without autograd.
        using var fused = FusedPairStep.TryCreate(model, loss, inputs, Pairs, out string? reason)
                          ?? throw new InvalidOperationException($"The fused step does not apply: {reason}.");
        double fusedStep = 0, fusedOptimizer = 0, fusedWhole = 0;
        var countsFused = Snapshot();
        for (int round = 0; round < 2; round++)
        {
            countsFused = Snapshot();
            fusedStep = fusedOptimizer = fusedWhole = 0;
            for (int i = 0; i < steps; i++)
            {
                using var scope = NewDisposeScope();
                using var indices = randint(0, Images, new long[] { Rows }, dtype: ScalarType.Int64);
                var clock = Stopwatch.StartNew();
                fused.Step(inputs, indices, same);
                double t1 = clock.Elapsed.TotalMilliseconds;
                optimizer.Step();
                double t2 = clock.Elapsed.TotalMilliseconds;
                fusedStep += t1;
                fusedOptimizer += t2 - t1;
                fusedWhole += t2;
            }
        }

        Console.WriteLine("fused step:");
        void FusedLine(string name, double total) =>
            Console.WriteLine(string.Create(culture, $"  {name,-34} {total / steps,7:F3} ms  {100 * total / fusedWhole,5:F1}%"));
        FusedLine("gather + forward + loss + backward", fusedStep);
        FusedLine("optimizer (RMSprop)", fusedOptimizer);
        FusedLine("whole step", fusedWhole);
        Counted(countsFused, steps);

        // The floor: the step's eight matrix products (three forward, three weight gradients, two input gradients)
        // into results allocated once.
        using var x = rand(Rows, 784);
        using var w1 = rand(128, 784);
        using var w2 = rand(128, 128);
        using var h = rand(Rows, 128);
        using var g = rand(Rows, 128);
        using var z1 = empty(Rows, 128);
        using var z2 = empty(Rows, 128);
        using var z3 = empty(Rows, 128);
        using var gw1 = empty(128, 784);
        using var gw2 = empty(128, 128);
        using var gw3 = empty(128, 128);
        using var gx2 = empty(Rows, 128);
        using var gx3 = empty(Rows, 128);
        double products = 0, first = 0, firstGradient = 0;
        for (int round = 0; round < 2; round++)
        {
            products = first = firstGradient = 0;
            for (int i = 0; i < steps; i++)
            {
                var clock = Stopwatch.StartNew();
                z1.addmm_(x, w1.t(), beta: 0);
                double a = clock.Elapsed.TotalMilliseconds;
                z2.addmm_(h, w2.t(), beta: 0);
                z3.addmm_(h, w2.t(), beta: 0);
                double b = clock.Elapsed.TotalMilliseconds;
                gw1.addmm_(g.t(), x, beta: 0);
                double c = clock.Elapsed.TotalMilliseconds;
                gw2.addmm_(g.t(), h, beta: 0);
                gw3.addmm_(g.t(), h, beta: 0);
                gx2.addmm_(g, w2, beta: 0);
                gx3.addmm_(g, w2, beta: 0);
                products += clock.Elapsed.TotalMilliseconds;
                first += a;
                firstGradient += c - b;
            }
        }

        double flops = 2.0 * Rows * (784 * 128 * 2 + 128 * 128 * 6);
        Console.WriteLine(string.Create(culture,
            $"  {"matrix products alone",-34} {products / steps,7:F3} ms  ({flops / 1e6:F0} MFLOP, {flops / (products / steps * 1e-3) / 1e9:F0} GFLOP/s; " +
            $"first layer forward {first / steps:F3} ms, its weight gradient {firstGradient / steps:F3} ms)"));
        RetrievalStep(inputs, steps);
        return 0;
    }

    /// <summary>
    /// The retrieval sample's step: 10 classes of 32 images, the MLP, the multi-similarity loss with its miner and
    /// Adam, through autograd (phase by phase) and through the fused step.
    /// </summary>
    private static void RetrievalStep(InputSet inputs, int steps)
    {
        var culture = CultureInfo.InvariantCulture;
        const int Batch = 320;
        steps = Math.Max(1, steps / 5);
        manual_seed(2);
        var labels = Enumerable.Range(0, (int)inputs.Count).Select(i => i % 10).ToArray();
        using var labelTensor = tensor(labels.Select(label => (long)label).ToArray());
        using var network = new MlpEmbeddingNetwork();
        var loss = new MultiSimilarityLoss();
        var miner = new MultiSimilarityMiner();
        using var optimizer = OptimizerFactory.Create(OptimizerSettings.Adam(), TrainingParameters.Collect(network, loss));
        network.train();
        var random = new Random(3);
        // As MPerClassSampler draws them: 32 images of each of the 10 classes (input i is of class i mod 10).
        Tensor Indices() => tensor(Enumerable.Range(0, Batch).Select(j => 10L * random.Next((int)inputs.Count / 10) + j / 32).ToArray());

        double forward = 0, mining = 0, lossTime = 0, backward = 0, step = 0, whole = 0;
        var countsRetrievalAutograd = Snapshot();
        for (int round = 0; round < 2; round++)
        {
            countsRetrievalAutograd = Snapshot();
            forward = mining = lossTime = backward = step = whole = 0;
            for (int i = 0; i < steps; i++)
            {
                using var scope = NewDisposeScope();
                var indices = Indices();
                var clock = Stopwatch.StartNew();
                var embeddings = network.forward(inputs.Gather(indices));
                var batchLabels = labelTensor.index_select(0, indices);
                double t0 = clock.Elapsed.TotalMilliseconds;
                using var mined = miner.Mine(embeddings, batchLabels);
                double t1 = clock.Elapsed.TotalMilliseconds;
                var value = loss.Compute(embeddings, batchLabels, mined);
                double t2 = clock.Elapsed.TotalMilliseconds;
                optimizer.ZeroGrad();
                value.backward();
                double t3 = clock.Elapsed.TotalMilliseconds;
                optimizer.Step();
                double t4 = clock.Elapsed.TotalMilliseconds;
                forward += t0;
                mining += t1 - t0;
                lossTime += t2 - t1;
                backward += t3 - t2;
                step += t4 - t3;
                whole += t4;
            }
        }

        Console.WriteLine(string.Create(culture, $"Retrieval sample (batch path), steps={steps}, ms per step of {Batch} images, autograd:"));
        void Line(string name, double total, double of) =>
            Console.WriteLine(string.Create(culture, $"  {name,-34} {total / steps,7:F3} ms  {100 * total / of,5:F1}%"));
        Line("gather + forward", forward, whole);
        Line("mine (multi-similarity)", mining, whole);
        Line("loss (multi-similarity)", lossTime, whole);
        Line("zero gradients + backward", backward, whole);
        Line("optimizer (Adam)", step, whole);
        Line("whole step", whole, whole);
        Counted(countsRetrievalAutograd, steps);

        using var fused = FusedBatchStep.TryCreate(network, loss, miner, inputs, labels, Batch, out string? reason)
                          ?? throw new InvalidOperationException($"The fused step does not apply: {reason}.");
        double fusedStep = 0, fusedOptimizer = 0, fusedWhole = 0;
        var countsRetrievalFused = Snapshot();
        for (int round = 0; round < 2; round++)
        {
            countsRetrievalFused = Snapshot();
            fusedStep = fusedOptimizer = fusedWhole = 0;
            for (int i = 0; i < steps; i++)
            {
                using var scope = NewDisposeScope();
                var indices = Indices();
                var clock = Stopwatch.StartNew();
                fused.Step(inputs, indices, mine: true);
                double t0 = clock.Elapsed.TotalMilliseconds;
                optimizer.Step();
                double t1 = clock.Elapsed.TotalMilliseconds;
                fusedStep += t0;
                fusedOptimizer += t1 - t0;
                fusedWhole += t1;
            }
        }

        Console.WriteLine("fused step:");
        Line("gather + forward + mine + loss + backward", fusedStep, fusedWhole);
        Line("optimizer (Adam)", fusedOptimizer, fusedWhole);
        Line("whole step", fusedWhole, fusedWhole);
        Counted(countsRetrievalFused, steps);
    }

    /// <summary>Tensors made so far on this thread (each a native call that returns a result or a view) and managed bytes allocated.</summary>
    private static (long Tensors, long ManagedBytes) Snapshot()
    {
        var statistics = TorchSharp.DisposeScopeManager.Statistics;
        return (statistics.CreatedInScopeCount + statistics.CreatedOutsideScopeCount, GC.GetAllocatedBytesForCurrentThread());
    }

    /// <summary>Prints what the timed round made per step, from a snapshot taken at its start.</summary>
    private static void Counted((long Tensors, long ManagedBytes) start, int steps)
    {
        var end = Snapshot();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  per step: {(double)(end.Tensors - start.Tensors) / steps:F0} tensors made through TorchSharp (results and views, the benchmark's own index tensor included; the C++ backward's own are not counted), {(double)(end.ManagedBytes - start.ManagedBytes) / steps / 1024:F1} KB managed allocations"));
    }
}
