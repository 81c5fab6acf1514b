using System;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using MetricLearning;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Evaluation;
using MetricLearning.Indexing;
using MetricLearning.Losses;
using MetricLearning.Mining;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Runtime;
using MetricLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

// Retrieval on your own images: a folder of class folders to train on, another to test with. Trains a CNN (or the
// MLP) with the multi-similarity loss and miner on M-per-class batches, then every test image queries the training
// images (precision@1, R-precision, MAP@R); optionally saves the model and both indexes.
var train = new Option<string>("--train") { Description = "Training images: a folder with one sub-folder per class.", Required = true };
var test = new Option<string>("--test") { Description = "Test images, in sub-folders named as the training classes.", Required = true };
var networkName = new Option<string>("--network") { Description = "cnn (three 3x3 conv blocks of 32, 64, 128 channels, batch norm, linear 128 -> 128) or mlp (hidden layers of 128).", DefaultValueFactory = _ => "cnn" };
var side = new Option<int>("--size") { Description = "Height and width every image is brought to.", DefaultValueFactory = _ => 28 };
var rgb = new Option<bool>("--rgb") { Description = "Three colour channels instead of grayscale." };
var skip = new Option<bool>("--skip-unreadable") { Description = "Leave out files that are not readable images, reporting each, instead of stopping at the first." };
var epochs = new Option<int>("--epochs") { Description = "Passes over the training images.", DefaultValueFactory = _ => 10 };
var samplesPerClass = new Option<int>("--samples-per-class") { Description = "M, images of each class in a batch.", DefaultValueFactory = _ => 32 };
var batchSize = new Option<int>("--batch-size") { Description = "Images per batch (a multiple of M).", DefaultValueFactory = _ => 320 };
var seed = new Option<int>("--seed") { Description = "Seed of weights and batches.", DefaultValueFactory = _ => 1 };
var device = new Option<ComputeDevice>("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => ComputeDevice.Auto };
var threads = new Option<int>("--threads") { Description = "CPU threads for torch.", DefaultValueFactory = _ => TorchRuntime.RecommendedThreadCount };
var save = new Option<string?>("--save") { Description = "Folder to save the model (model/), the exact index (index.bin) and the HNSW index (index.ann) of the training images in." };
var root = new RootCommand("Train and evaluate image retrieval on folders of class folders of images.")
{
    train, test, networkName, side, rgb, skip, epochs, samplesPerClass, batchSize, seed, device, threads, save,
};
root.SetAction((ParseResult result, System.Threading.CancellationToken cancellationToken) => System.Threading.Tasks.Task.FromResult(Run(result, cancellationToken)));

int Run(ParseResult result, System.Threading.CancellationToken cancellationToken)
{
    var culture = CultureInfo.InvariantCulture;
    try
    {
        if (result.GetValue(networkName) is not ("cnn" or "mlp"))
            throw new ArgumentException($"--network is '{result.GetValue(networkName)}'; it must be cnn or mlp.");
        var options = new EmbeddingTrainerOptions
        {
            Epochs = result.GetValue(epochs),
            SamplesPerClass = result.GetValue(samplesPerClass),
            BatchSize = result.GetValue(batchSize),
            Optimizer = OptimizerSettings.Adam(1e-3),
            Schedule = new LearningRateSchedule { Kind = ScheduleKind.Cosine },
            Seed = result.GetValue(seed),
        };
        options.Validate();
        TorchRuntime.SetThreadCount(result.GetValue(threads));
        // Torch's activations are large: keep freed memory for reuse instead of faulting it in again each step.
        TorchRuntime.TuneNativeAllocator();
        var target = TorchRuntime.Resolve(result.GetValue(device));
        var folderOptions = new ImageFolderOptions { Height = result.GetValue(side), Width = result.GetValue(side), Grayscale = !result.GetValue(rgb), SkipUnreadable = result.GetValue(skip) };

        var clock = Stopwatch.StartNew();
        var trainImages = ImageFolder.Load(result.GetValue(train)!, folderOptions);
        var testImages = ImageFolder.Load(result.GetValue(test)!, folderOptions);
        foreach (string skipped in trainImages.Skipped.Concat(testImages.Skipped))
            Console.WriteLine($"skipped {skipped}");
        // Test labels by class name, so that the two folders need not hold the same classes in the same order.
        var classOf = trainImages.ClassNames.Select((name, label) => (name, label)).ToDictionary(pair => pair.name, pair => pair.label, StringComparer.Ordinal);
        var unknown = testImages.ClassNames.Where(name => !classOf.ContainsKey(name)).ToArray();
        if (unknown.Length > 0)
            throw new ArgumentException($"The test folder has classes the training folder does not: {string.Join(", ", unknown)}.");
        var testLabels = testImages.Labels.Select(label => classOf[testImages.ClassNames[label]]).ToArray();
        Console.WriteLine(string.Create(culture,
            $"* Read {trainImages.Count:N0} training and {testImages.Count:N0} test images of {trainImages.Channels}x{trainImages.Height}x{trainImages.Width}, {trainImages.ClassNames.Count} classes, in {clock.Elapsed.TotalSeconds:F1} s"));

        using var trainInputs = trainImages.ToInputSet(target);
        using var testInputs = testImages.ToInputSet(target);
        manual_seed(options.Seed);
        IEmbeddingNetwork network = result.GetValue(networkName) == "cnn"
            ? new ConvEmbeddingNetwork(new ConvOptions { InputChannels = trainImages.Channels })
            : new MlpEmbeddingNetwork(new MlpOptions { InputSize = trainImages.InputSize, LayerSizes = new[] { 128, 128, 128 }, ActivateLastLayer = false });
        using var ownsNetwork = (IDisposable)network;
        network.Module.to(target);
        var comparison = new CosineSimilarity();
        Console.WriteLine(string.Create(culture,
            $"MetricLearning image retrieval: network={result.GetValue(networkName)}, device={target.type.ToString().ToLowerInvariant()}, threads={TorchRuntime.ThreadCount}, seed={options.Seed}, epochs={options.Epochs}, M={options.SamplesPerClass}, batch={options.BatchSize}, optimizer={options.Optimizer}, schedule={options.Schedule}, loss=multi-similarity, miner=multi-similarity"));

        var reports = new EmbeddingTrainer(new MultiSimilarityLoss(), options, new MultiSimilarityMiner(distance: comparison))
            .Fit(network, trainInputs, trainImages.Labels,
                new SynchronousProgress<EmbeddingEpochReport>(r => Console.WriteLine(string.Create(culture, $"epoch {r.Epoch,2}/{r.Epochs}  loss {r.Loss:F4}  spread {r.Spread:F3}  train_s {r.TrainSeconds:F2}"))),
                cancellationToken);

        clock.Restart();
        // Batches of 512: a CNN's activations for thousands of images at once no longer fit in the caches.
        using var references = Embedder.EmbedAll(network, trainInputs, batchSize: 512);
        using var queries = Embedder.EmbedAll(network, testInputs, batchSize: 512);
        var retrieval = RetrievalEvaluator.Evaluate(queries, testLabels, references, trainImages.Labels, comparison);
        Console.WriteLine(string.Create(culture,
            $"* Retrieval, {retrieval.QueryCount} test queries against {trainImages.Count} training images ({clock.Elapsed.TotalSeconds:F1} s): precision@1 {100 * retrieval.PrecisionAt1:F2}%, R-precision {100 * retrieval.RPrecision:F2}%, MAP@R {100 * retrieval.MapAtR:F2}%"));

        if (result.GetValue(save) is { } saveFolder)
        {
            // A verification threshold calibrated on random pairs of training images, then the model and its indexes.
            var model = new SiameseNetwork(network, comparison);
            var pairs = new PairDataset(trainInputs, new RandomPairSampler(10_000, options.Seed + 1).Sample(trainImages.Labels));
            using var distances = PairEvaluator.Distances(model, pairs);
            double threshold = VerificationEvaluator.Evaluate(distances.cpu().data<float>().ToArray(), pairs.Pairs.IsSame, comparison.IsSimilarity).BestAccuracyThreshold;
            string modelFolder = Path.Combine(saveFolder, "model");
            new TrainedModel(network, comparison, threshold, trainInputs.Preprocessing, trainInputs.InputShape, trainImages.ClassNames).Save(modelFolder);
            using var exact = new EmbeddingIndex(comparison);
            exact.Add(references, trainImages.Labels);
            exact.Save(Path.Combine(saveFolder, "index.bin"));
            using var host = references.cpu().contiguous();
            var flat = host.data<float>().ToArray();
            int width = (int)host.shape[1];
            using var approximate = new ApproximateIndex(width, IndexMetric.Cosine);
            approximate.Add(Enumerable.Range(0, trainImages.Count).Select(i => (long)i).ToArray(),
                Enumerable.Range(0, trainImages.Count).Select(i => flat.AsSpan(i * width, width).ToArray()).ToArray(), trainImages.Labels);
            approximate.Save(Path.Combine(saveFolder, "index.ann"));
            Console.WriteLine($"* Saved the model (threshold {threshold.ToString("F4", culture)}) to {modelFolder}, and the indexes of the {trainImages.Count} training images to {saveFolder}");
        }

        Console.WriteLine(string.Create(culture,
            $"RESULT network={result.GetValue(networkName)} epochs={options.Epochs} precision_at_1={100 * retrieval.PrecisionAt1:F2} r_precision={100 * retrieval.RPrecision:F2} map_at_r={100 * retrieval.MapAtR:F2} sec_per_epoch={reports.Average(r => r.TrainSeconds):F2}"));
        return 0;
    }
    catch (OperationCanceledException)
    {
        Console.Error.WriteLine("error: cancelled.");
        return 130;
    }
    catch (Exception ex) when (ex is ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException or EmbeddingCollapseException)
    {
        Console.Error.WriteLine($"error: {ex.Message.ReplaceLineEndings(" ")}");
        return 1;
    }
}

return root.Parse(args).Invoke();

/// <summary>Reports on the training thread.</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
