using System;
using System.CommandLine;
using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using MetricLearning.Bench;
using MetricLearning.Mnist.Acquisition;
using MetricLearning.Runtime;

// Benchmarks print figures and assert nothing; tests live in tests/.
var epochs = new Option<int>("--epochs") { Description = "Epochs to time; the first is a warm-up and is not in the median.", DefaultValueFactory = _ => 4 };
var threads = new Option<int?>("--threads") { Description = "CPU threads for torch (default: TorchRuntime.RecommendedThreadCount, all cores but one)." };
var device = new Option<ComputeDevice>("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => ComputeDevice.Auto };
var data = new Option<string>("--data") { Description = "MNIST cache folder.", DefaultValueFactory = _ => MnistAcquisitionOptions.DefaultCacheFolder() };
var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1337, Description = "Seed of pairs, weights and shuffles." };

var train = new Command("train", "Time the reference experiment's training pass and relate it to the machine's peak.") { epochs, threads, device, data, seed };
train.SetAction(result =>
{
    if (result.GetValue(epochs) < 1 || result.GetValue(threads) is < 1)
    {
        Console.Error.WriteLine("error: --epochs and --threads must be at least 1.");
        return 2;
    }

    return TrainingBenchmark.Run(result.GetValue(epochs), result.GetValue(threads), result.GetValue(device), result.GetValue(data)!, result.GetValue(seed));
});

var rest = new Argument<string[]>("benchmarkdotnet-arguments") { Description = "Passed to BenchmarkDotNet (e.g. --filter '*Gather*').", Arity = ArgumentArity.ZeroOrMore };
var micro = new Command("micro", "BenchmarkDotNet micro-benchmarks of the hot pieces (in-process, one CPU thread for torch).") { data, rest };
micro.SetAction(result =>
{
    MicroBenchmarks.DataFolder = result.GetValue(data)!;
    var config = DefaultConfig.Instance.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
    var arguments = result.GetValue(rest) ?? Array.Empty<string>();
    BenchmarkSwitcher.FromTypes(new[] { typeof(MicroBenchmarks), typeof(MiningBenchmarks) }).Run(arguments.Length == 0 ? new[] { "--filter", "*" } : arguments, config);
    return 0;
});

var rows = new Option<long>("--rows") { Description = "Rows in each set.", DefaultValueFactory = _ => 100_000 };
var dimension = new Option<long>("--dim") { Description = "Embedding width.", DefaultValueFactory = _ => 128 };
var blockMegabytes = new Option<long>("--block-mb") { Description = "Memory budget of one block, MB.", DefaultValueFactory = _ => 64 };
var matrix = new Command("matrix", "Compare every row of one random set with every row of another in blocks, and report the time and peak memory.") { rows, dimension, threads, blockMegabytes };
matrix.SetAction(result =>
{
    if (result.GetValue(rows) < 1 || result.GetValue(dimension) < 1 || result.GetValue(blockMegabytes) < 1 || result.GetValue(threads) is < 1)
    {
        Console.Error.WriteLine("error: --rows, --dim, --block-mb and --threads must be at least 1.");
        return 2;
    }

    return MatrixBenchmark.Run(result.GetValue(rows), result.GetValue(dimension), result.GetValue(threads) ?? TorchRuntime.RecommendedThreadCount,
        result.GetValue(blockMegabytes) * 1024 * 1024);
});

var callers = new Option<string>("--callers") { Description = "Comma-separated counts of concurrent callers.", DefaultValueFactory = _ => "1,8,64" };
var serveSeconds = new Option<double>("--seconds") { Description = "Measured seconds per cell (after one second of warm-up).", DefaultValueFactory = _ => 5 };
var maxBatch = new Option<int>("--max-batch") { Description = "EmbeddingBatcherOptions.MaxBatchSize.", DefaultValueFactory = _ => 64 };
var maxWait = new Option<double>("--max-wait-ms") { Description = "EmbeddingBatcherOptions.MaxWait in milliseconds.", DefaultValueFactory = _ => 0 };
var serve = new Command("serve", "Embeddings per second and latency with concurrent callers: one call at a time against EmbeddingBatcher.") { callers, serveSeconds, threads, maxBatch, maxWait };
serve.SetAction(result =>
{
    var counts = result.GetValue(callers)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(c => int.TryParse(c, out int n) ? n : 0).ToArray();
    if (counts.Length == 0 || counts.Any(c => c < 1) || result.GetValue(serveSeconds) <= 0 || result.GetValue(maxBatch) < 1 || result.GetValue(maxWait) < 0 || result.GetValue(threads) is < 1)
    {
        Console.Error.WriteLine("error: --callers must list counts of at least 1; --seconds, --max-batch and --threads must be positive.");
        return 2;
    }

    return ServingBenchmark.Run(counts, result.GetValue(serveSeconds), result.GetValue(threads) ?? TorchRuntime.RecommendedThreadCount, result.GetValue(maxBatch), result.GetValue(maxWait));
});

var annCount = new Option<int>("--count") { Description = "Vectors in the index.", DefaultValueFactory = _ => 1_000_000 };
var annDim = new Option<int>("--dim") { Description = "Vector width.", DefaultValueFactory = _ => 128 };
var annQueries = new Option<int>("--queries") { Description = "Queries timed.", DefaultValueFactory = _ => 1000 };
var annBreadth = new Option<int>("--search-breadth") { Description = "ApproximateIndexOptions.SearchBreadth (ef).", DefaultValueFactory = _ => 64 };
var annLinks = new Option<int>("--connectivity") { Description = "ApproximateIndexOptions.Connectivity (M).", DefaultValueFactory = _ => 16 };
var ann = new Command("ann", "The HNSW ApproximateIndex against exact search on random vectors: build time, recall@10, query time, peak memory.") { annCount, annDim, annQueries, threads, annBreadth, annLinks };
ann.SetAction(result =>
{
    if (result.GetValue(annCount) < 10 || result.GetValue(annDim) < 1 || result.GetValue(annQueries) < 1 || result.GetValue(threads) is < 1)
    {
        Console.Error.WriteLine("error: --count must be at least 10; --dim, --queries and --threads at least 1.");
        return 2;
    }

    return ApproximateSearchBenchmark.Run(result.GetValue(annCount), result.GetValue(annDim), result.GetValue(annQueries), result.GetValue(threads) ?? TorchRuntime.RecommendedThreadCount,
        result.GetValue(annBreadth), result.GetValue(annLinks));
});

var root = new RootCommand("MetricLearning benchmarks.") { train, micro, matrix, serve, ann };
return root.Parse(args).Invoke();
