using System.Linq;
using BenchmarkDotNet.Attributes;
using MetricLearning.Losses;
using MetricLearning.Mining;
using MetricLearning.Runtime;
using static TorchSharp.torch;

namespace MetricLearning.Bench;

/// <summary>
/// One M-per-class batch as the retrieval sample trains on (10 classes of 32, 128-d embeddings): each miner, and the
/// batch losses forward and backward with and without mined indices.
/// </summary>
[MemoryDiagnoser]
public class MiningBenchmarks
{
    private Tensor _embeddings = null!;
    private Tensor _labels = null!;
    private readonly MultiSimilarityMiner _multiSimilarityMiner = new();
    private readonly BatchHardMiner _batchHardMiner = new();
    private readonly SemiHardMiner _semiHardMiner = new();
    private readonly PairMarginMiner _pairMarginMiner = new();
    private readonly MultiSimilarityLoss _multiSimilarity = new();
    private readonly TripletMarginLoss _triplet = new();

    [GlobalSetup]
    public void Setup()
    {
        TorchRuntime.EnsureLoaded();
        TorchRuntime.SetThreadCount(1);
        manual_seed(1);
        _embeddings = randn(320, 128);
        _labels = tensor(Enumerable.Range(0, 320).Select(i => (long)(i / 32)).ToArray());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _embeddings.Dispose();
        _labels.Dispose();
    }

    [Benchmark]
    public long MineMultiSimilarity() => Mine(_multiSimilarityMiner);

    [Benchmark]
    public long MineBatchHard() => Mine(_batchHardMiner);

    [Benchmark]
    public long MineSemiHard() => Mine(_semiHardMiner);

    [Benchmark]
    public long MinePairMargin() => Mine(_pairMarginMiner);

    /// <summary>Multi-similarity loss over every pair, forward and backward.</summary>
    [Benchmark]
    public float MultiSimilarityAllPairs() => ForwardBackward(_multiSimilarity, null);

    /// <summary>Multi-similarity loss over the multi-similarity miner's pairs, mining included.</summary>
    [Benchmark]
    public float MultiSimilarityMined() => ForwardBackward(_multiSimilarity, _multiSimilarityMiner);

    /// <summary>Triplet loss over every valid triplet (per same-class pair against its anchor's negatives).</summary>
    [Benchmark]
    public float TripletAllTriplets() => ForwardBackward(_triplet, null);

    /// <summary>Triplet loss over batch-hard triplets, mining included.</summary>
    [Benchmark]
    public float TripletBatchHard() => ForwardBackward(_triplet, _batchHardMiner);

    /// <summary>Triplet loss over semi-hard triplets, mining included.</summary>
    [Benchmark]
    public float TripletSemiHard() => ForwardBackward(_triplet, _semiHardMiner);

    private long Mine(IMiner miner)
    {
        using var scope = NewDisposeScope();
        using var mined = miner.Mine(_embeddings, _labels);
        return mined.BatchSize;
    }

    private float ForwardBackward(IBatchLoss loss, IMiner? miner)
    {
        using var scope = NewDisposeScope();
        var embeddings = _embeddings.detach().requires_grad_();
        var value = loss.Compute(embeddings, _labels, miner?.Mine(embeddings, _labels));
        value.backward();
        return value.item<float>();
    }
}
