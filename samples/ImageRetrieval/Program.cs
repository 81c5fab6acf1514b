using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using MetricLearning;
using MetricLearning.Components;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Evaluation;
using MetricLearning.Indexing;
using MetricLearning.Losses;
using MetricLearning.Mining;
using MetricLearning.Models;
using MetricLearning.Onnx.Export;
using MetricLearning.Networks;
using MetricLearning.Runtime;
using MetricLearning.Samples;
using MetricLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

// Retrieval on your own images: a folder of class folders to train on, another to test with. Trains a CNN (or the
// MLP) with the multi-similarity loss and miner on M-per-class batches, then every test image queries the training
// images (precision@1, R-precision, MAP@R); optionally saves the model and both indexes.
var train = new Option<string>("--train") { Description = "Training images: a folder with one sub-folder per class.", Required = true };
var test = new Option<string>("--test") { Description = "Test images, in sub-folders named as the training classes.", Required = true };
var networkName = new Option<string>("--network") { Description = "cnn (three 3x3 conv blocks of 32, 64, 128 channels, batch norm, linear 128 -> 128), mlp (hidden layers of 128), or resnet18, resnet34, resnet50 (TorchVision's trunk, linear head to 128, L2-normalised; RGB).", DefaultValueFactory = _ => "cnn" };
var pretrained = new Option<string?>("--pretrained") { Description = "PyTorch weights to start from (torch.save(model.state_dict(), path) or .safetensors): a torchvision ResNet's for the resnet networks (its classifier left out), the whole network's for cnn." };
var freezeTrunk = new Option<int>("--freeze-trunk-epochs") { Description = "ResNets: epochs at the start during which the trunk is frozen and only the head learns.", DefaultValueFactory = _ => 0 };
var normalize = new Option<string>("--normalize") { Description = "How pixels become inputs: scale (x / 255), measure (each channel to mean 0, deviation 1 over the training images), imagenet (ImageNet's statistics, what pretrained ResNets expect), or auto (imagenet for the resnets, scale otherwise).", DefaultValueFactory = _ => "auto" };
var flip = new Option<bool>("--flip") { Description = "Augment: mirror half of the training images left to right (for classes a mirror keeps, such as clothes; not digits)." };
var cropArea = new Option<double>("--crop-area") { Description = "Augment: random resized crops of at least this fraction of the image's area (1 for none).", DefaultValueFactory = _ => 1.0 };
var rotate = new Option<double>("--rotate") { Description = "Augment: random rotations of up to this many degrees either way.", DefaultValueFactory = _ => 0.0 };
var brightness = new Option<double>("--brightness") { Description = "Augment: brightness jitter, 0 to 1.", DefaultValueFactory = _ => 0.0 };
var contrast = new Option<double>("--contrast") { Description = "Augment: contrast jitter, 0 to 1.", DefaultValueFactory = _ => 0.0 };
var stream = new Option<bool>("--stream") { Description = "Decode each batch's image files as it is needed, a few batches ahead on worker threads, instead of holding every image in memory (for image sets larger than memory)." };
var prefetch = new Option<int>("--prefetch") { Description = "With --stream: batches decoded ahead on worker threads, 0 to 64; 0 decodes each batch on the training thread when the step needs it.", DefaultValueFactory = _ => 4 };
var export = new Option<string?>("--export") { Description = "Also write the trained network's weights for PyTorch to this file (.pt for torch.load, .safetensors)." };
var side = new Option<int>("--size") { Description = "Height and width every image is brought to.", DefaultValueFactory = _ => 28 };
var rgb = new Option<bool>("--rgb") { Description = "Three colour channels instead of grayscale." };
var skip = new Option<bool>("--skip-unreadable") { Description = "Leave out files that are not readable images, reporting each, instead of stopping at the first." };
var epochs = new Option<int>("--epochs") { Description = "Passes over the training images.", DefaultValueFactory = _ => 10 };
var samplesPerClass = new Option<int>("--samples-per-class") { Description = "M, images of each class in a batch.", DefaultValueFactory = _ => 32 };
var batchSize = new Option<int>("--batch-size") { Description = "Images per batch (a multiple of M).", DefaultValueFactory = _ => 320 };
var seed = new Option<int>("--seed") { Description = "Seed of weights and batches.", DefaultValueFactory = _ => 1 };
var device = new Option<ComputeDevice>("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => ComputeDevice.Auto };
var threads = new Option<int>("--threads") { Description = "CPU threads for torch.", DefaultValueFactory = _ => TorchRuntime.RecommendedThreadCount };
var catalogue = new CatalogueOptions();
var (lossName, minerName, reducerName, reducerLow, reducerHigh) = (catalogue.Loss, catalogue.Miner, catalogue.Reducer, catalogue.ReducerLow, catalogue.ReducerHigh);
var save = new Option<string?>("--save") { Description = "Folder to save the model (model/), the exact index (index.bin) and the HNSW index (index.ann) of the training images in." };
var exportOnnx = new Option<string?>("--export-onnx") { Description = "Also write the trained model as one ONNX file (opset 17, preprocessing inside, distance, calibrated threshold and class names as metadata), to serve with MetricLearning.Onnx without libtorch or from any ONNX runtime." };
var root = new RootCommand("Train and evaluate image retrieval on folders of class folders of images.")
{
    train, test, networkName, pretrained, freezeTrunk, normalize, side, rgb, skip, epochs, samplesPerClass, batchSize, seed, device, threads, save, export, exportOnnx,
    flip, cropArea, rotate, brightness, contrast, stream, prefetch, lossName, minerName, reducerName, reducerLow, reducerHigh,
};
root.SetAction((ParseResult result, System.Threading.CancellationToken cancellationToken) => System.Threading.Tasks.Task.FromResult(Run(result, cancellationToken)));

int Run(ParseResult result, System.Threading.CancellationToken cancellationToken)
{
    var culture = CultureInfo.InvariantCulture;
    try
    {
        string networkKind = result.GetValue(networkName)!;
        if (networkKind is not ("cnn" or "mlp" or "resnet18" or "resnet34" or "resnet50"))
            throw new ArgumentException($"--network is '{networkKind}'; it must be cnn, mlp, resnet18, resnet34 or resnet50.");
        bool resnet = networkKind.StartsWith("resnet", StringComparison.Ordinal);
        string? pretrainedPath = result.GetValue(pretrained);
        if (pretrainedPath is not null && networkKind == "mlp")
            throw new ArgumentException("--pretrained loads PyTorch weights into cnn or the resnets, not mlp.");
        if (pretrainedPath is not null && !File.Exists(pretrainedPath))
            throw new FileNotFoundException($"--pretrained: there is no file '{pretrainedPath}'.", pretrainedPath);
        if (result.GetValue(freezeTrunk) != 0 && !resnet)
            throw new ArgumentException("--freeze-trunk-epochs applies to the resnet networks only.");
        if (result.GetValue(freezeTrunk) < 0)
            throw new ArgumentException($"--freeze-trunk-epochs is {result.GetValue(freezeTrunk)}; it must be 0 or more.");
        string normalization = result.GetValue(normalize) is "auto" ? (resnet ? "imagenet" : "scale") : result.GetValue(normalize)!;
        if (normalization is not ("scale" or "measure" or "imagenet"))
            throw new ArgumentException($"--normalize is '{normalization}'; it must be auto, scale, measure or imagenet.");
        var options = new EmbeddingTrainerOptions
        {
            Epochs = result.GetValue(epochs),
            SamplesPerClass = result.GetValue(samplesPerClass),
            BatchSize = result.GetValue(batchSize),
            Optimizer = OptimizerSettings.Adam(1e-3),
            Schedule = new LearningRateSchedule { Kind = ScheduleKind.Cosine },
            Seed = result.GetValue(seed),
            PrefetchBatches = result.GetValue(prefetch),
        };
        if (options.PrefetchBatches is < 0 or > 64)
            throw new ArgumentException($"--prefetch is {options.PrefetchBatches}; it must be between 0 and 64.");
        if (result.GetResult(prefetch) is { Implicit: false } && !result.GetValue(stream))
            throw new ArgumentException("--prefetch applies with --stream only (in memory, nothing is read ahead).");
        ImageAugmentation augmentation;
        try
        {
            augmentation = new ImageAugmentation(result.GetValue(cropArea), result.GetValue(flip), result.GetValue(rotate), result.GetValue(brightness), result.GetValue(contrast));
        }
        catch (ArgumentOutOfRangeException ex)
        {
            string flag = ex.ParamName switch { "minCropArea" => "--crop-area", "rotationDegrees" => "--rotate", _ => "--" + ex.ParamName };
            throw new ArgumentException($"{flag} is {ex.ActualValue}: {ex.Message.Split(" (Parameter")[0]}", ex);
        }

        bool augmenting = augmentation.MinCropArea < 1 || augmentation.HorizontalFlip || augmentation.RotationDegrees > 0 || augmentation.Brightness > 0 || augmentation.Contrast > 0;
        if (augmenting)
            options.Augmentation = augmentation;
        options.Validate();
        TorchRuntime.SetThreadCount(result.GetValue(threads));
        // Torch's activations are large: keep freed memory for reuse instead of faulting it in again each step.
        TorchRuntime.TuneNativeAllocator();
        var target = TorchRuntime.Resolve(result.GetValue(device));
        var folderOptions = new ImageFolderOptions { Height = result.GetValue(side), Width = result.GetValue(side), Grayscale = !(result.GetValue(rgb) || resnet), SkipUnreadable = result.GetValue(skip) };

        var clock = Stopwatch.StartNew();
        bool streaming = result.GetValue(stream);
        // Streaming: the files are checked now and decoded again batch by batch; otherwise decoded once into memory.
        var trainSource = ImageFolderSource.Open(result.GetValue(train)!, folderOptions, keepInMemory: !streaming);
        var testSource = ImageFolderSource.Open(result.GetValue(test)!, folderOptions, keepInMemory: !streaming);
        foreach (string skipped in trainSource.Skipped.Concat(testSource.Skipped))
            Console.WriteLine($"skipped {skipped}");
        // Test labels by class name, so that the two folders need not hold the same classes in the same order.
        var classOf = trainSource.ClassNames.Select((name, label) => (name, label)).ToDictionary(pair => pair.name, pair => pair.label, StringComparer.Ordinal);
        var unknown = testSource.ClassNames.Where(name => !classOf.ContainsKey(name)).ToArray();
        if (unknown.Length > 0)
            throw new ArgumentException($"The test folder has classes the training folder does not: {string.Join(", ", unknown)}.");
        var testLabels = testSource.Labels.Select(label => classOf[testSource.ClassNames[label]]).ToArray();
        int channels = (int)trainSource.InputShape[0];
        Console.WriteLine(string.Create(culture,
            $"* {(streaming ? "Checked" : "Read")} {trainSource.Count:N0} training and {testSource.Count:N0} test images of {string.Join("x", trainSource.InputShape)}, {trainSource.ClassNames.Count} classes, in {clock.Elapsed.TotalSeconds:F1} s{(streaming ? "; decoding them batch by batch" : "")}"));

        IInputPreprocessing preprocessing = normalization switch
        {
            "imagenet" when channels != 3 => throw new ArgumentException("--normalize imagenet needs RGB images (--rgb)."),
            "imagenet" => ChannelNormalization.ImageNet,
            "measure" => ChannelNormalization.Measure(trainSource),
            _ => new InputScaling(1f / 255f),
        };
        Console.WriteLine($"* Preprocessing: {preprocessing}");
        trainSource = trainSource.WithPreprocessing(preprocessing);
        testSource = testSource.WithPreprocessing(preprocessing);
        manual_seed(options.Seed);
        IEmbeddingNetwork network = networkKind switch
        {
            "cnn" => new ConvEmbeddingNetwork(new ConvOptions { InputChannels = channels }),
            "mlp" => new MlpEmbeddingNetwork(new MlpOptions { InputSize = (int)trainSource.InputShape.Aggregate(1L, (a, b) => a * b), LayerSizes = new[] { 128, 128, 128 }, ActivateLastLayer = false }),
            _ => new ResNetEmbeddingNetwork(new ResNetOptions { Depth = int.Parse(networkKind["resnet".Length..], culture), FreezeTrunkEpochs = result.GetValue(freezeTrunk) }),
        };
        using var ownsNetwork = (IDisposable)network;
        if (pretrainedPath is not null)
        {
            if (network is ResNetEmbeddingNetwork residual)
                residual.LoadPretrainedTrunk(pretrainedPath);
            else
                PyTorchWeights.Load(network.Module, pretrainedPath);
            Console.WriteLine($"* Loaded PyTorch weights from {pretrainedPath}");
        }

        network.Module.to(target);
        // Each loss with the comparison it is defined on; the miner and the evaluation use the same one.
        string lossChoice = result.GetValue(lossName)!;
        var reducer = ReducerCatalogue.Create(result.GetValue(reducerName)!, result.GetValue(reducerLow), result.GetValue(reducerHigh), trainSource.Labels);
        var loss = LossCatalogue.Create(lossChoice, new LossContext(trainSource.ClassNames.Count, network.EmbeddingSize, target, options.Seed), reducer);
        using var ownsWeights = loss as IDisposable;
        var comparison = LossCatalogue.ComparisonFor(lossChoice);
        string minerChoice = MinerCatalogue.Resolve(result.GetValue(minerName)!, lossChoice);
        Console.WriteLine(string.Create(culture,
            $"MetricLearning image retrieval: network={networkKind}, device={target.type.ToString().ToLowerInvariant()}, threads={TorchRuntime.ThreadCount}, seed={options.Seed}, epochs={options.Epochs}, M={options.SamplesPerClass}, batch={options.BatchSize}, optimizer={options.Optimizer}, schedule={options.Schedule}, loss={lossChoice}, miner={minerChoice}, reducer={result.GetValue(reducerName)}, data={(streaming ? $"streamed (prefetch {options.PrefetchBatches})" : "in memory")}, augmentation={(augmenting ? string.Create(culture, $"crop>={augmentation.MinCropArea} flip={augmentation.HorizontalFlip} rotate={augmentation.RotationDegrees} brightness={augmentation.Brightness} contrast={augmentation.Contrast}") : "none")}"));

        var trainer = new EmbeddingTrainer(loss, options, MinerCatalogue.Create(minerChoice, comparison, options.Seed));
        var report = new SynchronousProgress<EmbeddingEpochReport>(r => Console.WriteLine(string.Create(culture, $"epoch {r.Epoch,2}/{r.Epochs}  loss {r.Loss:F4}  spread {r.Spread:F3}  train_s {r.TrainSeconds:F2}")));
        IReadOnlyList<EmbeddingEpochReport> reports;
        Tensor references, queries;
        if (streaming)
        {
            reports = trainer.Fit(network, trainSource, report, cancellationToken);
            clock.Restart();
            references = Embedder.EmbedAll(network, trainSource, batchSize: 512, prefetchBatches: options.PrefetchBatches);
            queries = Embedder.EmbedAll(network, testSource, batchSize: 512, prefetchBatches: options.PrefetchBatches);
        }
        else
        {
            // The decoded pixels as one resident tensor on the device: batches are gathered, not read.
            using var trainInputs = ToInputSet(trainSource, target, preprocessing);
            using var testInputs = ToInputSet(testSource, target, preprocessing);
            reports = trainer.Fit(network, trainInputs, trainSource.Labels, report, cancellationToken);
            clock.Restart();
            // Batches of 512: a CNN's activations for thousands of images at once no longer fit in the caches.
            references = Embedder.EmbedAll(network, trainInputs, batchSize: 512);
            queries = Embedder.EmbedAll(network, testInputs, batchSize: 512);
        }

        using var ownsReferences = references;
        using var ownsQueries = queries;
        var retrieval = RetrievalEvaluator.Evaluate(queries, testLabels, references, trainSource.Labels, comparison);
        Console.WriteLine(string.Create(culture,
            $"* Retrieval, {retrieval.QueryCount} test queries against {trainSource.Count} training images ({clock.Elapsed.TotalSeconds:F1} s): precision@1 {100 * retrieval.PrecisionAt1:F2}%, R-precision {100 * retrieval.RPrecision:F2}%, MAP@R {100 * retrieval.MapAtR:F2}%"));

        string? saveFolder = result.GetValue(save), onnxPath = result.GetValue(exportOnnx);
        if (saveFolder is not null || onnxPath is not null)
        {
            // A verification threshold calibrated on random pairs of training images (their embeddings compared),
            // then the model, and its indexes or its ONNX file.
            var pairs = new RandomPairSampler(10_000, options.Seed + 1).Sample(trainSource.Labels);
            using var first = tensor(pairs.First.Select(i => (long)i).ToArray(), device: references.device);
            using var second = tensor(pairs.Second.Select(i => (long)i).ToArray(), device: references.device);
            using var distances = comparison.Compute(references.index_select(0, first), references.index_select(0, second));
            double threshold = VerificationEvaluator.Evaluate(distances.cpu().data<float>().ToArray(), pairs.IsSame, comparison.IsSimilarity).BestAccuracyThreshold;
            var trained = new TrainedModel(network, comparison, threshold, preprocessing, trainSource.InputShape.ToArray(), [.. trainSource.ClassNames]);
            if (saveFolder is not null)
            {
                string modelFolder = Path.Combine(saveFolder, "model");
                trained.Save(modelFolder);
                using var exact = new EmbeddingIndex(comparison);
                exact.Add(references, trainSource.Labels);
                exact.Save(Path.Combine(saveFolder, "index.bin"));
                using var host = references.cpu().contiguous();
                var flat = host.data<float>().ToArray();
                int width = (int)host.shape[1];
                using var approximate = new ApproximateIndex(width, IndexMetric.Cosine);
                approximate.Add(Enumerable.Range(0, trainSource.Count).Select(i => (long)i).ToArray(),
                    Enumerable.Range(0, trainSource.Count).Select(i => flat.AsSpan(i * width, width).ToArray()).ToArray(), trainSource.Labels);
                approximate.Save(Path.Combine(saveFolder, "index.ann"));
                Console.WriteLine($"* Saved the model (threshold {threshold.ToString("F4", culture)}) to {modelFolder}, and the indexes of the {trainSource.Count} training images to {saveFolder}");
            }

            if (onnxPath is not null)
            {
                trained.ExportOnnx(onnxPath);
                Console.WriteLine($"* Exported the model (threshold {threshold.ToString("F4", culture)}) to {Path.GetFullPath(onnxPath)} (ONNX; serve it with MetricLearning.Onnx)");
            }
        }

        if (result.GetValue(export) is { } exportPath)
        {
            PyTorchWeights.Save(network.Module, exportPath);
            Console.WriteLine($"* Wrote the network's weights for PyTorch to {exportPath}");
        }

        Console.WriteLine(string.Create(culture,
            $"RESULT network={networkKind} epochs={options.Epochs} precision_at_1={100 * retrieval.PrecisionAt1:F2} r_precision={100 * retrieval.RPrecision:F2} map_at_r={100 * retrieval.MapAtR:F2} sec_per_epoch={reports.Average(r => r.TrainSeconds):F2}"));
        return 0;
    }
    catch (OperationCanceledException)
    {
        Console.Error.WriteLine("error: cancelled.");
        return 130;
    }
    catch (Exception ex) when (ex is ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException or EmbeddingCollapseException or WeightsMismatchException or NotSupportedException)
    {
        Console.Error.WriteLine($"error: {ex.Message.ReplaceLineEndings(" ")}");
        return 1;
    }
}

return root.Parse(args).Invoke();

/// <summary>A kept-in-memory folder's pixels as one resident tensor on the device.</summary>
static InputSet ToInputSet(ImageFolderSource source, Device device, IInputPreprocessing preprocessing)
{
    using var all = source.Read(Enumerable.Range(0, source.Count).ToArray());
    return new InputSet(all.to(device), preprocessing);
}

/// <summary>Reports on the training thread.</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
