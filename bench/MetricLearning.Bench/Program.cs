using System;
using System.CommandLine;
using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using MetricLearning.Bench;
using MetricLearning.Indexing;
using MetricLearning.Mnist.Acquisition;
using MetricLearning.Runtime;

// Benchmarks print figures and assert nothing; tests live in tests/.
var epochs = new Option<int>("--epochs") { Description = "Epochs to time; the first is a warm-up and is not in the median.", DefaultValueFactory = _ => 4 };
var threads = new Option<int?>("--threads") { Description = "CPU threads for torch (default: TorchRuntime.RecommendedThreadCount, all cores but one)." };
var device = new Option<ComputeDevice>("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => ComputeDevice.Auto };
var data = new Option<string>("--data") { Description = "MNIST cache folder.", DefaultValueFactory = _ => MnistAcquisitionOptions.DefaultCacheFolder() };
var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1337, Description = "Seed of pairs, weights and shuffles." };

var generic = new Option<bool>("--generic") { Description = "Train with autograd (TrainerOptions.FusedStep = false) instead of the fused step." };
var twoCoreSteps = new Option<int>("--steps") { Description = "Steps per figure.", DefaultValueFactory = _ => 500 };
var twoCoreRounds = new Option<int>("--rounds") { Description = "Rounds; each measures every variant once.", DefaultValueFactory = _ => 4 };
var twoCores = new Command("two-cores", "What a second core can add to the reference fused step: whole step on 1 and 2 threads, data-parallel halves, and two halves at once with no synchronisation (the ceiling of any split).") { twoCoreSteps, twoCoreRounds };
twoCores.SetAction(result =>
{
    if (result.GetValue(twoCoreSteps) < 1 || result.GetValue(twoCoreRounds) < 1)
    {
        Console.Error.WriteLine("error: --steps and --rounds must be at least 1.");
        return 2;
    }

    return TwoCoreBenchmark.Run(result.GetValue(twoCoreSteps), result.GetValue(twoCoreRounds));
});
var train = new Command("train", "Time the reference experiment's training pass and relate it to the machine's peak.") { epochs, threads, device, data, seed, generic };
train.SetAction(result =>
{
    if (result.GetValue(epochs) < 1 || result.GetValue(threads) is < 1)
    {
        Console.Error.WriteLine("error: --epochs and --threads must be at least 1.");
        return 2;
    }

    return TrainingBenchmark.Run(result.GetValue(epochs), result.GetValue(threads), result.GetValue(device), result.GetValue(data)!, result.GetValue(seed), result.GetValue(generic));
});

var profileSteps = new Option<int>("--steps") { Description = "Steps timed (after as many for warm-up).", DefaultValueFactory = _ => 500 };
var profileThreads = new Option<int>("--threads") { Description = "CPU threads for torch.", DefaultValueFactory = _ => 2 };
var stepProfile = new Command("step", "Where one step of the reference experiment's training pass spends its time, beside its bare matrix products.") { profileThreads, profileSteps };
stepProfile.SetAction(result => result.GetValue(profileThreads) < 1 || result.GetValue(profileSteps) < 1
    ? Usage("--threads and --steps must be at least 1.")
    : StepProfileBenchmark.Run(result.GetValue(profileThreads), result.GetValue(profileSteps)));

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
var annBreadth = new Option<string>("--search-breadth") { Description = "ApproximateIndex.SearchBreadth (ef) values to measure on one built graph, comma-separated.", DefaultValueFactory = _ => "64,128,256,512" };
var annDistribution = new Option<string>("--distribution") { Description = "uniform (in [-1, 1]^d, no structure) or latentN (a random map of N-d Gaussian points, like learned embeddings).", DefaultValueFactory = _ => "uniform" };
var annPrecision = new Option<IndexPrecision>("--precision") { Description = "ApproximateIndexOptions.Precision: Float32, Float16 or Int8.", DefaultValueFactory = _ => IndexPrecision.Float32 };
var annBuild = new Option<int>("--build-breadth") { Description = "ApproximateIndexOptions.BuildBreadth (efConstruction).", DefaultValueFactory = _ => 128 };
var annLinks = new Option<int>("--connectivity") { Description = "ApproximateIndexOptions.Connectivity (M).", DefaultValueFactory = _ => 16 };
var ann = new Command("ann", "The HNSW ApproximateIndex against exact search on random vectors: build time, recall@10, query time, peak memory.") { annCount, annDim, annQueries, threads, annBreadth, annLinks, annBuild, annPrecision, annDistribution };
ann.SetAction(result =>
{
    var breadths = result.GetValue(annBreadth)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(b => int.TryParse(b, out int n) ? n : 0).ToArray();
    if (result.GetValue(annCount) < 10 || result.GetValue(annDim) < 1 || result.GetValue(annQueries) < 1 || result.GetValue(threads) is < 1
        || breadths.Length == 0 || breadths.Any(b => b is < 1 or > 4096) || result.GetValue(annLinks) is < 2 or > 256 || result.GetValue(annBuild) is < 1 or > 4096)
    {
        Console.Error.WriteLine("error: --count must be at least 10; --dim, --queries and --threads at least 1; --search-breadth lists values from 1 to 4096; --connectivity is 2 to 256; --build-breadth 1 to 4096.");
        return 2;
    }

    return ApproximateSearchBenchmark.Run(result.GetValue(annCount), result.GetValue(annDim), result.GetValue(annQueries), result.GetValue(threads) ?? TorchRuntime.RecommendedThreadCount,
        breadths, result.GetValue(annLinks), result.GetValue(annBuild), result.GetValue(annPrecision), result.GetValue(annDistribution)!);
});

var storeCount = new Option<int>("--count") { Description = "Records in the collection.", DefaultValueFactory = _ => 100_000 };
var storeDim = new Option<int>("--dim") { Description = "Vector width.", DefaultValueFactory = _ => 128 };
var storeQueries = new Option<int>("--queries") { Description = "Queries timed, one at a time.", DefaultValueFactory = _ => 1000 };
var storeDistribution = new Option<string>("--distribution") { Description = "uniform or latentN, as for ann.", DefaultValueFactory = _ => "latent16" };
var vectorStore = new Command("vector-store", "The folder vector store (Microsoft.Extensions.VectorData) beside ApproximateIndex and ExactIndex directly: recall@10 and query time, unfiltered and filtered, for both index kinds; upsert and reopen times.") { storeCount, storeDim, storeQueries, storeDistribution, threads };
vectorStore.SetAction(result =>
{
    if (result.GetValue(storeCount) < 100 || result.GetValue(storeDim) < 1 || result.GetValue(storeQueries) < 1 || result.GetValue(threads) is < 1)
    {
        Console.Error.WriteLine("error: --count must be at least 100; --dim, --queries and --threads at least 1.");
        return 2;
    }

    return VectorStoreBenchmark.RunAsync(result.GetValue(storeCount), result.GetValue(storeDim), result.GetValue(storeQueries),
        result.GetValue(threads) ?? Environment.ProcessorCount, result.GetValue(storeDistribution)!).GetAwaiter().GetResult();
});

var faissFolder = new Option<string>("--data") { Description = "Folder to write vectors.npy, queries.npy and our exact answers (ours-exact.npy) to, for FAISS.", Required = true };
var faissHnsw = new Option<bool>("--hnsw") { Description = "Also build and query the HNSW index." };
var faissBreadth = new Option<int>("--search-breadth") { Description = "ApproximateIndex.SearchBreadth (ef) of the HNSW side.", DefaultValueFactory = _ => 64 };
var faissSide = new Command("search-ours", "Our side of bench/compare-faiss.sh: exact search (EmbeddingIndex, cosine, one batched call) and optionally HNSW on seeded data it also writes as .npy; prints key=value lines.") { annCount, annDim, annQueries, annDistribution, threads, faissFolder, faissHnsw, faissBreadth, annLinks, annPrecision };
faissSide.SetAction(result =>
{
    if (result.GetValue(annCount) < 10 || result.GetValue(annDim) < 1 || result.GetValue(annQueries) < 1 || result.GetValue(threads) is < 1 || result.GetValue(faissBreadth) is < 1 or > 4096 || result.GetValue(annLinks) is < 2 or > 256)
    {
        Console.Error.WriteLine("error: --count must be at least 10; --dim, --queries and --threads at least 1; --search-breadth 1 to 4096; --connectivity 2 to 256.");
        return 2;
    }

    return SearchComparison.Run(result.GetValue(annCount), result.GetValue(annDim), result.GetValue(annQueries), result.GetValue(threads) ?? TorchRuntime.RecommendedThreadCount,
        result.GetValue(annDistribution)!, result.GetValue(faissFolder)!, result.GetValue(faissHnsw), result.GetValue(faissBreadth), result.GetValue(annLinks),
        result.GetValue(annPrecision));
});

var evalCount = new Option<int>("--count") { Description = "Embeddings (queries and references alike).", DefaultValueFactory = _ => 60_000 };
var evalClasses = new Option<int>("--classes") { Description = "Classes, of equal size.", DefaultValueFactory = _ => 12_000 };
var evalDim = new Option<int>("--dim") { Description = "Embedding width.", DefaultValueFactory = _ => 128 };
var evalNoise = new Option<double>("--noise") { Description = "Standard deviation of each value around its class centre (centres are standard Gaussian).", DefaultValueFactory = _ => 1.0 };
var evalFolder = new Option<string>("--data") { Description = "Folder to write embeddings.npy and labels.npy to, for pytorch-metric-learning.", Required = true };
var evalClustering = new Option<bool>("--clustering") { Description = "Also time one k-means run (20 iterations, as many clusters as classes) and NMI and AMI of it, after the retrieval metrics." };
var evaluateOurs = new Command("evaluate-ours", "Our side of bench/compare-evaluation.sh: retrieval evaluation (precision@1, R-precision, MAP@R, queries = references) of seeded embeddings it also writes as .npy; prints key=value lines.") { evalCount, evalClasses, evalDim, evalNoise, threads, evalFolder, evalClustering };
evaluateOurs.SetAction(result =>
{
    if (result.GetValue(evalClasses) < 1 || result.GetValue(evalCount) < 2 * result.GetValue(evalClasses) || result.GetValue(evalDim) < 1 || result.GetValue(threads) is < 1 || !(result.GetValue(evalNoise) >= 0))
    {
        Console.Error.WriteLine("error: --classes must be at least 1 and --count at least twice it; --dim and --threads at least 1; --noise at least 0.");
        return 2;
    }

    return EvaluationComparison.Run(result.GetValue(evalCount), result.GetValue(evalClasses), result.GetValue(evalDim), result.GetValue(evalNoise),
        result.GetValue(threads) ?? TorchRuntime.RecommendedThreadCount, result.GetValue(evalFolder)!, result.GetValue(evalClustering));
});

var annModel = new Option<string>("--model") { Description = "A model folder saved by RetrievalMnist --save (its model/ subfolder).", Required = true };
var annMnist = new Command("ann-mnist", "The HNSW ApproximateIndex against exact search on MNIST embeddings (10,000 test queries, 60,000 training vectors): build time, recall@10, query time, precision@1.") { annModel, data, threads, annBreadth, annLinks, annBuild, annPrecision };
annMnist.SetAction(result =>
{
    var breadths = result.GetValue(annBreadth)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(b => int.TryParse(b, out int n) ? n : 0).ToArray();
    if (result.GetValue(threads) is < 1 || breadths.Length == 0 || breadths.Any(b => b is < 1 or > 4096) || result.GetValue(annLinks) is < 2 or > 256 || result.GetValue(annBuild) is < 1 or > 4096)
    {
        Console.Error.WriteLine("error: --threads must be at least 1; --search-breadth lists values from 1 to 4096; --connectivity is 2 to 256; --build-breadth 1 to 4096.");
        return 2;
    }

    return ApproximateSearchBenchmark.RunMnist(result.GetValue(annModel)!, result.GetValue(data)!, result.GetValue(threads) ?? TorchRuntime.RecommendedThreadCount,
        breadths, result.GetValue(annLinks), result.GetValue(annBuild), result.GetValue(annPrecision));
});

var imageFolder = new Option<string>("--folder") { Description = "A folder of class folders of images.", Required = true };
var imageSide = new Option<int>("--side") { Description = "Height and width every image is brought to.", DefaultValueFactory = _ => 28 };
var imageColour = new Option<bool>("--rgb") { Description = "Three channels instead of one." };
var images = new Command("images", "Time ImageFolder.Load on a folder of class folders of images: seconds, images per second, peak memory.") { imageFolder, imageSide, imageColour, threads };
images.SetAction(result =>
{
    int workers = result.GetValue(threads) ?? Environment.ProcessorCount;
    var clock = System.Diagnostics.Stopwatch.StartNew();
    var loaded = MetricLearning.Data.ImageFolder.Load(result.GetValue(imageFolder)!, new MetricLearning.Data.ImageFolderOptions
    {
        Height = result.GetValue(imageSide), Width = result.GetValue(imageSide), Grayscale = !result.GetValue(imageColour), Threads = workers,
    });
    double seconds = clock.Elapsed.TotalSeconds;
    Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{loaded.Count:N0} images of {loaded.Channels}x{loaded.Height}x{loaded.Width} in {loaded.ClassNames.Count} classes, {workers} decoding thread(s): {seconds:F2} s, {loaded.Count / seconds:F0} images/s; {loaded.Pixels.Length / 1e6:F1} MB of pixels; peak RSS {ProcessMemory.PeakRssMegabytes():F0} MB"));
    return 0;
});

var readBatch = new Option<int>("--batch") { Description = "Images per read.", DefaultValueFactory = _ => 320 };
var readFolder = new Command("read", "Time ImageFolderSource.Read, the streamed path, on one thread: every image of a folder in shuffled batches, microseconds per image.") { imageFolder, imageSide, imageColour, readBatch };
readFolder.SetAction(result =>
{
    if (result.GetValue(readBatch) < 1)
        return Usage("--batch must be at least 1.");
    var source = MetricLearning.Data.ImageFolderSource.Open(result.GetValue(imageFolder)!, new MetricLearning.Data.ImageFolderOptions
    {
        Height = result.GetValue(imageSide), Width = result.GetValue(imageSide), Grayscale = !result.GetValue(imageColour),
    });
    // Open has just decoded every file once to check it, so both passes read from the page cache.
    var shuffle = new Random(1);
    var order = Enumerable.Range(0, source.Count).OrderBy(_ => shuffle.Next()).ToArray();
    for (int round = 0; round < 2; round++)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int start = 0; start < order.Length; start += result.GetValue(readBatch))
            source.Read(order[start..Math.Min(order.Length, start + result.GetValue(readBatch))]).Dispose();
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"pass {round + 1}: {source.Count:N0} images read in batches of {result.GetValue(readBatch)} on one thread: {seconds:F2} s, {seconds * 1e6 / source.Count:F1} us/image"));
    }

    return 0;
});

var convBatch = new Option<int>("--batch") { Description = "Images per training step.", DefaultValueFactory = _ => 320 };
var convSteps = new Option<int>("--steps") { Description = "Training steps timed (after as many for warm-up).", DefaultValueFactory = _ => 20 };
var convTune = new Option<bool>("--tune-allocator") { Description = "Call TorchRuntime.TuneNativeAllocator() first." };
var convFirst = new Option<bool>("--channels-first") { Description = "Keep the CNN's activations channel-first (ConvOptions.ChannelsLast = false)." };
var conv = new Command("conv", "The small CNN alone: a training step and the evaluation forward pass per image.") { threads, convBatch, convSteps, convTune, convFirst };
conv.SetAction(result => ConvBenchmark.Run(result.GetValue(threads) ?? TorchRuntime.RecommendedThreadCount, result.GetValue(convBatch), result.GetValue(convSteps), result.GetValue(convTune), result.GetValue(convFirst)));

var lossBatch = new Option<int>("--batch") { Description = "Rows of the batch.", DefaultValueFactory = _ => 320 };
var lossWidth = new Option<int>("--width") { Description = "Width of the embeddings.", DefaultValueFactory = _ => 128 };
var lossClasses = new Option<int>("--classes") { Description = "Classes of the batch (rows i mod classes).", DefaultValueFactory = _ => 10 };
var lossSteps = new Option<int>("--steps") { Description = "Steps timed per loss (after 10 for warm-up); the median is reported.", DefaultValueFactory = _ => 30 };
var lossNames = new Option<string[]>("--losses") { Description = "Catalogue names of the losses to time; all by default.", AllowMultipleArgumentsPerToken = true };
var lossMiner = new Option<string?>("--miner") { Description = "Also mine each step with this catalogue miner (auto: each loss's paper's); none by default." };
var lossStepsCommand = new Command("loss-steps", "Each catalogue loss's forward and backward pass on one fixed batch (no miner by default), as bench/pml-loss-steps.py times pytorch-metric-learning's.") { threads, lossBatch, lossWidth, lossClasses, lossSteps, lossNames, lossMiner };
lossStepsCommand.SetAction(result => LossStepBenchmark.Run(result.GetValue(threads) ?? 2, result.GetValue(lossBatch), result.GetValue(lossWidth), result.GetValue(lossClasses), result.GetValue(lossSteps), result.GetValue(lossNames) ?? Array.Empty<string>(), result.GetValue(lossMiner)));

var servingOut = new Option<string>("--out") { Description = "Folder to write the models in.", Required = true };
var servingModels = new Command("serving-models", "Writes the models bench/compare-serving.sh serves: the reference MLP and the small CNN (seeded, untrained), each saved as a folder (mlp/, cnn/) and exported to ONNX (mlp.onnx, cnn.onnx).") { servingOut };
servingModels.SetAction(result => ServingModels.Write(result.GetValue(servingOut)!));

var root = new RootCommand("MetricLearning benchmarks.") { train, twoCores, stepProfile, micro, matrix, serve, ann, annMnist, vectorStore, faissSide, evaluateOurs, images, readFolder, conv, lossStepsCommand, servingModels };
return root.Parse(args).Invoke();

static int Usage(string message)
{
    Console.Error.WriteLine($"error: {message}");
    return 2;
}
