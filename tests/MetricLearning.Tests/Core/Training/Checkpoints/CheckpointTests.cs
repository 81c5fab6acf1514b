using System;
using System.IO;
using System.Linq;
using System.Threading;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Losses;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using MetricLearning.Training;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Training;

/// <summary>Checkpoints written by the training loop, and runs resumed from them bit for bit.</summary>
public sealed class CheckpointTests
{
    /// <summary>The contrastive loss, cancelling a token when it has been called a given number of times.</summary>
    private sealed class CancelAfterCalls(int calls, CancellationTokenSource source) : ILoss
    {
        private readonly ContrastiveLoss _inner = new();
        private int _count;

        public Tensor Compute(Tensor distances, Tensor sameClass)
        {
            if (++_count == calls)
                source.Cancel();
            return _inner.Compute(distances, sameClass);
        }
    }

    /// <summary>Proxy-Anchor, cancelling a token after a given number of calls (its proxies are trained weights of its own).</summary>
    private sealed class CancellingProxyAnchor : IBatchLoss, ITrainableParameters, IDisposable
    {
        private readonly ProxyAnchorLoss _inner;
        private readonly int _calls;
        private readonly CancellationTokenSource? _source;
        private int _count;

        public CancellingProxyAnchor(int seed, int calls = -1, CancellationTokenSource? source = null)
        {
            manual_seed(seed);
            _inner = new ProxyAnchorLoss(classes: 4, embeddingSize: 8);
            _calls = calls;
            _source = source;
        }

        public ProxyAnchorLoss Inner => _inner;

        public System.Collections.Generic.IReadOnlyList<ParameterGroup> ParameterGroups => _inner.ParameterGroups;

        public Tensor Compute(Tensor embeddings, Tensor labels, MinedIndices? mined)
        {
            if (++_count == _calls)
                _source!.Cancel();
            return _inner.Compute(embeddings, labels, mined);
        }

        public void Dispose() => _inner.Dispose();
    }

    private static MlpEmbeddingNetwork Network(int seed)
    {
        manual_seed(seed);
        return new MlpEmbeddingNetwork(new MlpOptions { InputSize = 6, LayerSizes = new[] { 24, 8 }, Dropout = 0.1 });
    }

    private static float[] Weights(IEmbeddingNetwork network) =>
        network.Module.parameters().SelectMany(Tensors.Values).ToArray();

    private static TrainerOptions PairOptions(string? folder, bool resume = false, int every = 1) => new()
    {
        Epochs = 4,
        BatchSize = 16,
        Seed = 41,
        EvaluationBatchSize = 64,
        Optimizer = { LearningRate = 3e-3 },
        Checkpoint = { Folder = folder, Resume = resume, EveryEpochs = every },
    };

    private static PairDataset Pairs(InputSet inputs, int[] labels) => new(inputs, new AlternatingPairSampler(41).Sample(labels));

    [Theory]
    [InlineData(1, 7)]     // mid-epoch 1
    [InlineData(1, 30)]    // mid-epoch 3 (11 steps an epoch)
    [InlineData(3, 22)]    // an epoch boundary, checkpoints every 3 epochs
    public void A_pair_run_cancelled_at_any_step_resumes_to_the_uninterrupted_weights(int every, int stopAfterSteps)
    {
        var (inputs, labels) = Blobs.Create(perClass: 30, classes: 3, dimensions: 6, seed: 41);
        using var _ = inputs;
        var data = Pairs(inputs, labels);
        using var reference = Network(41);
        // The same loss type as the interrupted run's, so that both take the same (autograd) path.
        var expected = new SiameseTrainer(new CancelAfterCalls(-1, new CancellationTokenSource()), PairOptions(null)).Fit(new SiameseNetwork(reference), data);

        using var folder = new TempFolder();
        using var source = new CancellationTokenSource();
        using (var first = Network(41))
        {
            var interrupted = () => new SiameseTrainer(new CancelAfterCalls(stopAfterSteps, source), PairOptions(folder.Path, every: every))
                .Fit(new SiameseNetwork(first), data, cancellationToken: source.Token);
            interrupted.Should().Throw<OperationCanceledException>();
        }

        var saved = CheckpointFile.Read(Path.Combine(folder.Path, CheckpointOptions.FileName));
        int stepsPerEpoch = (data.Pairs.Count + 15) / 16;
        saved.Description["epoch"]!.GetValue<int>().Should().Be(stopAfterSteps / stepsPerEpoch + 1, "the checkpoint is taken where training stopped");
        saved.Description["step"]!.GetValue<int>().Should().Be(stopAfterSteps % stepsPerEpoch, "training stops at the next step after the request");

        using var resumed = Network(seed: 999);   // other starting weights: the checkpoint's must replace them
        using var never = new CancellationTokenSource();
        var reports = new SiameseTrainer(new CancelAfterCalls(-1, never), PairOptions(folder.Path, resume: true)).Fit(new SiameseNetwork(resumed), data);

        Weights(resumed).Should().Equal(Weights(reference), "a resumed run continues bit for bit");
        reports.Select(r => r.Loss).Should().Equal(expected.Select(r => r.Loss));
        Weights(resumed).Should().NotEqual(Weights(Network(41)), "the weights were trained");
    }

    [Fact]
    public void A_fused_pair_run_cancelled_between_epochs_resumes_to_the_uninterrupted_weights()
    {
        var (inputs, labels) = Blobs.Create(perClass: 30, classes: 3, dimensions: 6, seed: 44);
        using var _ = inputs;
        var data = Pairs(inputs, labels);
        using var reference = Network(44);
        var logger = new RecordingLogger();
        var expected = new SiameseTrainer(new ContrastiveLoss(), options: PairOptions(null)) { Logger = logger }.Fit(new SiameseNetwork(reference), data);
        logger.Events.Should().Contain(e => e.Id == TrainingTelemetry.StepChosen && e.Message.Contains("fused step"),
            "the run must take the fused step for this test to mean anything");

        using var folder = new TempFolder();
        using var source = new CancellationTokenSource();
        using (var first = Network(44))
        {
            var cancelAfterEpoch2 = new SynchronousProgress<EpochReport>(report =>
            {
                if (report.Epoch == 2)
                    source.Cancel();
            });
            var interrupted = () => new SiameseTrainer(new ContrastiveLoss(), options: PairOptions(folder.Path))
                .Fit(new SiameseNetwork(first), data, null, cancelAfterEpoch2, source.Token);
            interrupted.Should().Throw<OperationCanceledException>();
        }

        var saved = CheckpointFile.Read(Path.Combine(folder.Path, CheckpointOptions.FileName));
        saved.Description["epoch"]!.GetValue<int>().Should().Be(3);
        using var resumed = Network(seed: 999);
        var reports = new SiameseTrainer(new ContrastiveLoss(), options: PairOptions(folder.Path, resume: true)).Fit(new SiameseNetwork(resumed), data);

        Weights(resumed).Should().Equal(Weights(reference), "a resumed run continues bit for bit");
        reports.Select(r => r.Loss).Should().Equal(expected.Select(r => r.Loss));

        // The two steps round differently: a fused run is not resumed on the autograd step.
        using var other = Network(seed: 999);
        var autograd = PairOptions(folder.Path, resume: true);
        autograd.FusedStep = false;
        var act = () => new SiameseTrainer(new ContrastiveLoss(), options: autograd).Fit(new SiameseNetwork(other), data);
        act.Should().Throw<CheckpointException>().WithMessage("*step was 'the fused step (FusedStep = true*");
    }

    [Fact]
    public void A_batch_run_with_proxies_adam_and_cosine_resumes_to_the_uninterrupted_weights_and_proxies()
    {
        var (inputs, labels) = Blobs.Create(perClass: 16, classes: 4, dimensions: 6, seed: 42);
        using var _ = inputs;
        EmbeddingTrainerOptions Options(string? folder, bool resume = false) => new()
        {
            Epochs = 5, SamplesPerClass = 4, BatchSize = 16, Seed = 42, CollapseSpread = 0,
            Checkpoint = { Folder = folder, Resume = resume },
        };

        using var reference = Network(42);
        using var referenceLoss = new CancellingProxyAnchor(seed: 43);
        var expected = new EmbeddingTrainer(referenceLoss, Options(null)).Fit(reference, inputs, labels);

        using var folder = new TempFolder();
        using var source = new CancellationTokenSource();
        using (var first = Network(42))
        using (var firstLoss = new CancellingProxyAnchor(seed: 43, calls: 9, source))   // 4 steps an epoch: stops in epoch 3
        {
            var interrupted = () => new EmbeddingTrainer(firstLoss, Options(folder.Path)).Fit(first, inputs, labels, cancellationToken: source.Token);
            interrupted.Should().Throw<OperationCanceledException>();
        }

        using var resumed = Network(seed: 998);
        using var resumedLoss = new CancellingProxyAnchor(seed: 997);
        var reports = new EmbeddingTrainer(resumedLoss, Options(folder.Path, resume: true)).Fit(resumed, inputs, labels);

        Weights(resumed).Should().Equal(Weights(reference));
        Tensors.Values(resumedLoss.Inner.Proxies).Should().Equal(Tensors.Values(referenceLoss.Inner.Proxies), "the loss's own weights are restored too");
        reports.Select(r => r.Loss).Should().Equal(expected.Select(r => r.Loss));
    }

    /// <summary>A loss that forwards to another, with its training state and epochs, cancelling a token after a number of calls.</summary>
    private sealed class CancellingLoss(IBatchLoss inner, int calls, CancellationTokenSource? source) : IBatchLoss, ITrainingState, IEpochAware
    {
        private int _calls;

        public System.Collections.Generic.IReadOnlyList<System.Collections.Generic.KeyValuePair<string, Tensor>> TrainingState => ((ITrainingState)inner).TrainingState;

        public void BeginEpoch(int epoch) => (inner as IEpochAware)?.BeginEpoch(epoch);

        public Tensor Compute(Tensor embeddings, Tensor labels, MinedIndices? mined)
        {
            if (++_calls == calls)
                source!.Cancel();
            return inner.Compute(embeddings, labels, mined);
        }
    }

    /// <summary>
    /// A cross-batch memory (a queue that changes every step) beside a triplet loss fed by a random miner (a generator
    /// that changes every step), cancelled in the middle of an epoch: the resumed run restores both and ends with the
    /// uninterrupted run's weights and losses.
    /// </summary>
    [Fact]
    public void A_run_with_a_cross_batch_memory_and_a_random_miner_resumes_mid_epoch_to_the_uninterrupted_weights()
    {
        var (inputs, labels) = Blobs.Create(perClass: 16, classes: 4, dimensions: 6, seed: 44);
        using var _ = inputs;
        EmbeddingTrainerOptions Options(string? folder, bool resume = false) => new()
        {
            Epochs = 4, SamplesPerClass = 4, BatchSize = 16, Seed = 44, CollapseSpread = 0,
            Checkpoint = { Folder = folder, Resume = resume },
        };
        MultipleLosses Losses() => new(
            new IBatchLoss[] { new CrossBatchMemory(new MarginContrastiveLoss(), embeddingSize: 8, memorySize: 40), new TripletMarginLoss() },
            miners: new IMiner?[] { null, new MetricLearning.Mining.DistanceWeightedMiner(seed: 5) });

        using var reference = Network(44);
        using var referenceLoss = Losses();
        var expected = new EmbeddingTrainer(new CancellingLoss(referenceLoss, -1, null), Options(null)).Fit(reference, inputs, labels);

        using var folder = new TempFolder();
        using var source = new CancellationTokenSource();
        using (var first = Network(44))
        using (var firstLoss = Losses())
        {
            // 4 steps an epoch: stops in epoch 2, after its third step.
            var interrupted = () => new EmbeddingTrainer(new CancellingLoss(firstLoss, 7, source), Options(folder.Path)).Fit(first, inputs, labels, cancellationToken: source.Token);
            interrupted.Should().Throw<OperationCanceledException>();
        }

        using var resumed = Network(seed: 998);
        using var resumedLoss = Losses();
        var reports = new EmbeddingTrainer(new CancellingLoss(resumedLoss, -1, null), Options(folder.Path, resume: true)).Fit(resumed, inputs, labels);

        Weights(resumed).Should().Equal(Weights(reference), "the memory's queue and the miner's generator are restored");
        reports.Select(r => r.Loss).Should().Equal(expected.Select(r => r.Loss));
        var memory = (CrossBatchMemory)resumedLoss.Losses[0];
        Tensors.Values(memory.MemoryEmbeddings).Should().Equal(Tensors.Values(((CrossBatchMemory)referenceLoss.Losses[0]).MemoryEmbeddings));
    }

    /// <summary>Adds seeded noise of a set size: an augmentation whose draws show in the weights.</summary>
    private sealed class Jitter(double amount) : IAugmentation
    {
        public double Amount => amount;

        public Tensor Apply(Tensor inputs, Random random)
        {
            var noise = new float[inputs.numel()];
            for (int i = 0; i < noise.Length; i++)
                noise[i] = (float)((2 * random.NextDouble() - 1) * amount);
            using var added = tensor(noise).reshape(inputs.shape);
            return inputs + added;
        }
    }

    [Fact]
    public void A_streamed_augmented_run_cancelled_mid_epoch_resumes_to_the_uninterrupted_weights_and_refuses_other_augmentation()
    {
        var (inputs, labels) = Blobs.Create(perClass: 16, classes: 4, dimensions: 6, seed: 47);
        using var _ = inputs;
        var source = new InMemorySource(inputs, labels);
        EmbeddingTrainerOptions Options(string? folder, bool resume = false, double jitter = 0.3) => new()
        {
            Epochs = 4, SamplesPerClass = 4, BatchSize = 16, Seed = 47, CollapseSpread = 0, PrefetchBatches = 2,
            Augmentation = new Jitter(jitter), Checkpoint = { Folder = folder, Resume = resume },
        };

        using var reference = Network(47);
        using var referenceLoss = new CancellingProxyAnchor(seed: 48);
        new EmbeddingTrainer(referenceLoss, Options(null)).Fit(reference, source);

        using var folder = new TempFolder();
        using var cancel = new CancellationTokenSource();
        using (var first = Network(47))
        using (var firstLoss = new CancellingProxyAnchor(seed: 48, calls: 6, cancel))   // 4 steps an epoch: stops in epoch 2, step 3
        {
            var interrupted = () => new EmbeddingTrainer(firstLoss, Options(folder.Path)).Fit(first, source, cancellationToken: cancel.Token);
            interrupted.Should().Throw<OperationCanceledException>();
        }

        using var other = Network(47);
        using var otherLoss = new CancellingProxyAnchor(seed: 48);
        var otherAugmentation = () => new EmbeddingTrainer(otherLoss, Options(folder.Path, resume: true, jitter: 0.5)).Fit(other, source);
        otherAugmentation.Should().Throw<CheckpointException>().WithMessage("*augmentation.Amount was '0.3'*is '0.5'*");

        using var resumed = Network(seed: 996);
        using var resumedLoss = new CancellingProxyAnchor(seed: 995);
        new EmbeddingTrainer(resumedLoss, Options(folder.Path, resume: true)).Fit(resumed, source);

        Weights(resumed).Should().Equal(Weights(reference), "the prefetcher starts at the resumed step and the augmentation draws as before");
    }

    [Fact]
    public void A_checkpoint_from_other_settings_is_refused_naming_the_setting()
    {
        var (inputs, labels) = Blobs.Create(perClass: 10, classes: 2, dimensions: 6, seed: 44);
        using var _ = inputs;
        var data = Pairs(inputs, labels);
        using var folder = new TempFolder();
        using (var network = Network(44))
            new SiameseTrainer(new ContrastiveLoss(), options: PairOptions(folder.Path)).Fit(new SiameseNetwork(network), data);

        var options = PairOptions(folder.Path, resume: true);
        options.Optimizer.LearningRate = 1e-2;
        using var other = Network(44);
        var act = () => new SiameseTrainer(new ContrastiveLoss(), options: options).Fit(new SiameseNetwork(other), data);

        act.Should().Throw<CheckpointException>().WithMessage("*checkpoint.mlckpt*options.Optimizer.LearningRate was '0.003'*is '0.01'*");
    }

    [Fact]
    public void A_checkpoint_for_another_network_or_other_data_is_refused_naming_the_difference()
    {
        var (inputs, labels) = Blobs.Create(perClass: 10, classes: 2, dimensions: 6, seed: 45);
        using var _ = inputs;
        using var folder = new TempFolder();
        using (var network = Network(45))
            new SiameseTrainer(new ContrastiveLoss(), options: PairOptions(folder.Path)).Fit(new SiameseNetwork(network), Pairs(inputs, labels));

        manual_seed(45);
        using var wider = new MlpEmbeddingNetwork(new MlpOptions { InputSize = 6, LayerSizes = new[] { 32, 8 } });
        var otherNetwork = () => new SiameseTrainer(new ContrastiveLoss(), options: PairOptions(folder.Path, resume: true)).Fit(new SiameseNetwork(wider), Pairs(inputs, labels));
        otherNetwork.Should().Throw<CheckpointException>().WithMessage("*LayerSizes was '[24,8]'*is '[32,8]'*");

        var (otherInputs, _) = Blobs.Create(perClass: 10, classes: 2, dimensions: 6, seed: 46);
        using var __ = otherInputs;
        using var same = Network(45);
        var otherData = () => new SiameseTrainer(new ContrastiveLoss(), options: PairOptions(folder.Path, resume: true)).Fit(new SiameseNetwork(same), Pairs(otherInputs, labels));
        otherData.Should().Throw<CheckpointException>().WithMessage("*training.inputs was*sha256*");
    }

    [Fact]
    public void Truncated_or_altered_checkpoints_are_refused_naming_the_file()
    {
        var (inputs, labels) = Blobs.Create(perClass: 10, classes: 2, dimensions: 6, seed: 47);
        using var _ = inputs;
        var data = Pairs(inputs, labels);
        using var folder = new TempFolder();
        using (var network = Network(47))
            new SiameseTrainer(new ContrastiveLoss(), options: PairOptions(folder.Path)).Fit(new SiameseNetwork(network), data);
        string path = Path.Combine(folder.Path, CheckpointOptions.FileName);
        byte[] original = File.ReadAllBytes(path);

        foreach (var damaged in new[] { original[..(original.Length / 2)], original[..10], Flip(original, original.Length / 3), Flip(original, 12), Array.Empty<byte>() })
        {
            File.WriteAllBytes(path, damaged);
            using var network = Network(47);
            var act = () => new SiameseTrainer(new ContrastiveLoss(), options: PairOptions(folder.Path, resume: true)).Fit(new SiameseNetwork(network), data);
            act.Should().Throw<CheckpointException>().Where(e => e.Path == path).WithMessage($"*'{path}'*");
        }

        static byte[] Flip(byte[] bytes, int at)
        {
            var copy = (byte[])bytes.Clone();
            copy[at] ^= 0x10;
            return copy;
        }
    }

    [Fact]
    public void A_kill_while_writing_leaves_the_previous_checkpoint_resumable()
    {
        var (inputs, labels) = Blobs.Create(perClass: 10, classes: 2, dimensions: 6, seed: 48);
        using var _ = inputs;
        var data = Pairs(inputs, labels);
        using var folder = new TempFolder();
        using (var network = Network(48))
            new SiameseTrainer(new ContrastiveLoss(), options: PairOptions(folder.Path)).Fit(new SiameseNetwork(network), data);
        string path = Path.Combine(folder.Path, CheckpointOptions.FileName);
        byte[] complete = File.ReadAllBytes(path);
        // What a process killed half-way through the next write leaves behind: the temporary file, never renamed.
        File.WriteAllBytes(path + ".tmp-" + Guid.NewGuid().ToString("N"), complete[..(complete.Length / 2)]);

        using var resumed = Network(48);
        var reports = new SiameseTrainer(new ContrastiveLoss(), options: PairOptions(folder.Path, resume: true)).Fit(new SiameseNetwork(resumed), data);

        reports.Should().HaveCount(4, "the finished run's history is in its last checkpoint");
    }

    [Fact]
    public void An_existing_checkpoint_is_not_overwritten_and_resume_needs_one()
    {
        var (inputs, labels) = Blobs.Create(perClass: 10, classes: 2, dimensions: 6, seed: 49);
        using var _ = inputs;
        var data = Pairs(inputs, labels);
        using var folder = new TempFolder();
        using var network = Network(49);

        var resumeNothing = () => new SiameseTrainer(new ContrastiveLoss(), options: PairOptions(folder.Path, resume: true)).Fit(new SiameseNetwork(network), data);
        resumeNothing.Should().Throw<CheckpointException>().WithMessage("There is no checkpoint to resume at*");

        new SiameseTrainer(new ContrastiveLoss(), options: PairOptions(folder.Path)).Fit(new SiameseNetwork(network), data);
        var overwrite = () => new SiameseTrainer(new ContrastiveLoss(), options: PairOptions(folder.Path)).Fit(new SiameseNetwork(network), data);
        overwrite.Should().Throw<CheckpointException>().WithMessage("*already holds a checkpoint*resume*");
    }

    [Fact]
    public void Checkpoint_settings_are_validated_naming_the_setting()
    {
        new TrainerOptions { Checkpoint = { EveryEpochs = 0 } }.Invoking(o => o.Validate())
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("TrainerOptions.Checkpoint.EveryEpochs *");
        new EmbeddingTrainerOptions { Checkpoint = { Resume = true } }.Invoking(o => o.Validate())
            .Should().Throw<ArgumentException>().WithMessage("EmbeddingTrainerOptions.Checkpoint.Resume needs *Folder*");
    }
}
