using System;
using System.Linq;
using BenchmarkDotNet.Attributes;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Mnist;
using MetricLearning.Mnist.Idx;
using MetricLearning.Runtime;
using static TorchSharp.torch;

namespace MetricLearning.Bench;

/// <summary>The hot pieces of a training step and of data preparation, one at a time.</summary>
[MemoryDiagnoser]
public class MicroBenchmarks
{
    private MnistSplit _train = null!;
    private InputSet _inputs = null!;
    private Tensor _indices = null!;
    private Tensor _first = null!;
    private Tensor _second = null!;
    private Tensor _same = null!;
    private readonly EuclideanDistance _distance = new();
    private readonly ContrastiveLoss _loss = new();
    private string _imagesFile = null!;

    /// <summary>The MNIST cache folder (METRICLEARNING_MNIST_CACHE, or the library's default).</summary>
    public static string DataFolder { get; set; } = MetricLearning.Mnist.Acquisition.MnistAcquisitionOptions.DefaultCacheFolder();

    [GlobalSetup]
    public void Setup()
    {
        TorchRuntime.EnsureLoaded();
        TorchRuntime.SetThreadCount(1);
        _imagesFile = System.IO.Path.Combine(DataFolder, MnistFile.TrainImages.Name);
        _train = MnistDataset.Load(DataFolder).Train;
        _inputs = _train.ToInputSet(CPU);
        manual_seed(1);
        _indices = randint(_train.Count, new long[] { 256 }, dtype: ScalarType.Int64);
        _first = randn(128, 128);
        _second = randn(128, 128);
        _same = randint(2, new long[] { 128 }).to_type(ScalarType.Float32);
    }

    [GlobalCleanup]
    public void Cleanup() => _inputs.Dispose();

    /// <summary>Euclidean distance and contrastive loss of 128 pairs of 128-d embeddings, forward and backward.</summary>
    [Benchmark]
    public float DistanceAndLossForwardBackward()
    {
        using var scope = NewDisposeScope();
        var a = _first.detach().requires_grad_();
        var b = _second.detach().requires_grad_();
        var loss = _loss.Compute(_distance.Compute(a, b), _same);
        loss.backward();
        return loss.item<float>();
    }

    /// <summary>Gathering a stacked batch of 256 images (128 pairs) as scaled float32.</summary>
    [Benchmark]
    public long GatherBatch()
    {
        using var scope = NewDisposeScope();
        return _inputs.Gather(_indices).shape[0];
    }

    /// <summary>The reference pairs of MNIST's training split (108,400).</summary>
    [Benchmark]
    public int SamplePairs() => new AlternatingPairSampler(1).Sample(_train.Labels).Count;

    /// <summary>Decoding MNIST's training images (47 MB IDX file).</summary>
    [Benchmark]
    public int DecodeIdx() => IdxReader.Read(_imagesFile, expectedRank: 3).Data.Length;
}
