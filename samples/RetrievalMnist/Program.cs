using System;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Collections.Generic;
using Spectre.Console;
using MetricLearning;
using MetricLearning.Components;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Evaluation;
using MetricLearning.Indexing;
using MetricLearning.Losses;
using MetricLearning.Mining;
using MetricLearning.Mnist;
using MetricLearning.Mnist.Acquisition;
using MetricLearning.Models;
using MetricLearning.Onnx.Export;
using MetricLearning.Runtime;
using MetricLearning.Samples;
using MetricLearning.Training;
using static TorchSharp.torch;

// The documented 784-128-128-128 MLP trained with a batch loss and a miner (by default multi-similarity loss and
// mining on cosine similarity) on batches of M images per class, evaluated by retrieval (test queries against the
// training set) and by verification with a calibrated threshold; optionally saved as a model and an index.
var catalogue = new CatalogueOptions();
var (lossName, minerName, reducerName, reducerLow, reducerHigh) = (catalogue.Loss, catalogue.Miner, catalogue.Reducer, catalogue.ReducerLow, catalogue.ReducerHigh);
var minerWarmup = new Option<int>("--miner-warmup") { Description = "Epochs on all pairs/triplets before the miner is used.", DefaultValueFactory = _ => 0 };
var untrained = new Option<bool>("--untrained") { Description = "Skip training: evaluate the network as initialised (the baseline a loss must beat)." };
var clustering = new Option<bool>("--clustering") { Description = "Also cluster the test embeddings with k-means (10 clusters, seeded) and report NMI and AMI against the labels." };
var checkpoint = new Option<string?>("--checkpoint") { Description = "Save a checkpoint in this folder after every epoch and on Ctrl+C; a killed run continues exactly from it with --resume." };
var resume = new Option<bool>("--resume") { Description = "Continue from the checkpoint in the --checkpoint folder (same settings, seed and thread count give the uninterrupted run's result bit for bit)." };
var report = new Option<string?>("--report") { Description = "Write a report of the run to this folder: PNG charts (loss and spread per epoch, similarity histograms with the calibrated threshold, ROC curve, 2-D projection of test embeddings, test queries with their nearest training images) and index.html." };
var save = new Option<string?>("--save") { Description = "Folder to save the trained model (model/) and the training-set index (index.bin) in." };
var exportOnnx = new Option<string?>("--export-onnx") { Description = "Also write the trained (or --load'ed) model as one ONNX file (opset 17, preprocessing inside, distance and threshold as metadata), to serve with MetricLearning.Onnx without libtorch or from any ONNX runtime." };
var load = new Option<string?>("--load") { Description = "Skip training: load a model and index saved with --save and evaluate them on the test set." };
var epochs = new Option<int>("--epochs") { Description = "Passes over the training images.", DefaultValueFactory = _ => 40 };
var samplesPerClass = new Option<int>("--samples-per-class") { Description = "M, images of each class in a batch.", DefaultValueFactory = _ => 32 };
var batchSize = new Option<int>("--batch-size") { Description = "Images per batch (a multiple of M).", DefaultValueFactory = _ => 320 };
var optimizer = new Option<OptimizerKind>("--optimizer") { Description = "RmsProp, Adam, AdamW or Sgd, each with PyTorch's usual settings.", DefaultValueFactory = _ => OptimizerKind.Adam };
var learningRate = new Option<double>("--learning-rate") { Description = "The optimizer's learning rate.", DefaultValueFactory = _ => 1e-3 };
var schedule = new Option<ScheduleKind>("--schedule") { Description = "Constant, Cosine (down to 0 over the epochs) or Step (x0.1 every --step-epochs).", DefaultValueFactory = _ => ScheduleKind.Cosine };
var stepEpochs = new Option<int>("--step-epochs") { Description = "With --schedule Step: epochs between two reductions of the learning rate.", DefaultValueFactory = _ => 10 };
var seed = new Option<int>("--seed") { Description = "Seed of weights, batches and dropout.", DefaultValueFactory = _ => 1337 };
var device = new Option<ComputeDevice>("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => ComputeDevice.Auto };
var threads = new Option<int>("--threads") { Description = "CPU threads for torch (default: all cores but one).", DefaultValueFactory = _ => TorchRuntime.RecommendedThreadCount };
var source = new Option<string?>("--source")
{
    Description = "Train and test on a data set of your own in MNIST's layout instead of MNIST: a folder holding train-images-idx3-ubyte, "
        + "train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each plain or .gz; any image size, up to 256 classes), "
        + "such as Fashion-MNIST. The files are read and checked as they are (a bad one stops the run, named); the MNIST cache is not used.",
};
var data = new Option<string>("--data") { Description = "Cache folder for the MNIST IDX files.", DefaultValueFactory = _ => MnistAcquisitionOptions.DefaultCacheFolder() };

var root = new RootCommand("Trains the documented MLP with a batch loss and a miner on M-per-class batches, reports retrieval and verification metrics, and saves or loads the model and index.")
{
    epochs, samplesPerClass, batchSize, optimizer, learningRate, schedule, stepEpochs, lossName, minerName, reducerName, reducerLow, reducerHigh, minerWarmup, untrained, clustering, seed, device, threads, source, data, checkpoint, resume, report, save, exportOnnx, load,
};

root.SetAction(async (result, cancellationToken) =>
{
    var culture = CultureInfo.InvariantCulture;
    try
    {
        var options = new EmbeddingTrainerOptions
        {
            Epochs = result.GetValue(epochs),
            SamplesPerClass = result.GetValue(samplesPerClass),
            BatchSize = result.GetValue(batchSize),
            Optimizer = new OptimizerSettings { Kind = result.GetValue(optimizer), LearningRate = result.GetValue(learningRate) },
            Schedule = new LearningRateSchedule { Kind = result.GetValue(schedule), StepEpochs = result.GetValue(stepEpochs) },
            Seed = result.GetValue(seed),
            MinerWarmupEpochs = result.GetValue(minerWarmup),
            Checkpoint = { Folder = result.GetValue(checkpoint), Resume = result.GetValue(resume) },
        };
        options.Validate();
        TorchRuntime.SetThreadCount(result.GetValue(threads));
        var target = TorchRuntime.Resolve(result.GetValue(device));

        string folder = result.GetValue(source) ?? await new MnistAcquirer(new MnistAcquisitionOptions { CacheFolder = result.GetValue(data)! }, line => Console.WriteLine($"mnist: {line}"))
            .EnsureAsync(cancellationToken);
        var mnist = MnistDataset.Load(folder);
        using var trainInputs = mnist.Train.ToInputSet(target);
        using var testInputs = mnist.Test.ToInputSet(target);
        if (result.GetValue(load) is { } loadFolder)
            return EvaluateSaved(loadFolder, mnist, testInputs, options.Seed, target, result.GetValue(exportOnnx));
        using var network = SiameseMnistPreset.CreateNetwork(options.Seed, target, mnist.Train.InputSize);
        // Each loss with the comparison it is defined on; the miner and the evaluation use the same one.
        string lossChoice = result.GetValue(lossName)!;
        var reducer = ReducerCatalogue.Create(result.GetValue(reducerName)!, result.GetValue(reducerLow), result.GetValue(reducerHigh), mnist.Train.Labels);
        var loss = LossCatalogue.Create(lossChoice, new LossContext(mnist.Train.Classes, network.EmbeddingSize, target, options.Seed), reducer);
        var comparison = LossCatalogue.ComparisonFor(lossChoice);
        using var ownsWeights = loss as IDisposable;
        string minerChoice = MinerCatalogue.Resolve(result.GetValue(minerName)!, lossChoice);
        var miner = MinerCatalogue.Create(minerChoice, comparison, options.Seed);
        Console.WriteLine(string.Create(culture,
            $"MetricLearning retrieval MNIST: device={target.type.ToString().ToLowerInvariant()}, threads={TorchRuntime.ThreadCount}, seed={options.Seed}, epochs={options.Epochs}, M={options.SamplesPerClass}, batch={options.BatchSize}, optimizer={options.Optimizer}, schedule={options.Schedule}, loss={lossChoice}, miner={minerChoice}, reducer={result.GetValue(reducerName)}, warmup={options.MinerWarmupEpochs}"));

        string EpochLine(EmbeddingEpochReport r) => string.Create(culture, $"epoch {r.Epoch,2}/{r.Epochs}  loss {r.Loss:F4}  spread {r.Spread:F3}  train_s {r.TrainSeconds:F2}{(r.Mined ? "" : "  (no miner)")}");
        IReadOnlyList<EmbeddingEpochReport> reports;
        if (result.GetValue(untrained))
        {
            reports = Array.Empty<EmbeddingEpochReport>();
            Console.WriteLine("* Not trained (--untrained): evaluating the network as initialised");
        }
        else if (Console.IsOutputRedirected)
        {
            // Plain lines, one per epoch, for logs and scripts (CI reads the RESULT line).
            reports = new EmbeddingTrainer(loss, options, miner).Fit(network, trainInputs, mnist.Train.Labels,
                new SynchronousProgress<EmbeddingEpochReport>(r => Console.WriteLine(EpochLine(r))), cancellationToken);
        }
        else
        {
            // On a terminal: the same lines, with a live bar of the current epoch's steps beneath them.
            reports = AnsiConsole.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var bar = context.AddTask("training", maxValue: 1);
                    var trainer = new EmbeddingTrainer(loss, options, miner)
                    {
                        StepProgress = new SynchronousProgress<StepReport>(step =>
                        {
                            bar.Description = string.Create(culture, $"epoch {step.Epoch}/{step.Epochs}  loss {step.RunningLoss:F4}  {step.SamplesPerSecond:F0} images/s");
                            bar.MaxValue = step.StepsPerEpoch;
                            bar.Value = step.Step;
                        }),
                    };
                    return trainer.Fit(network, trainInputs, mnist.Train.Labels,
                        new SynchronousProgress<EmbeddingEpochReport>(r => AnsiConsole.WriteLine(EpochLine(r))), cancellationToken);
                });
        }

        // Retrieval: every test image queries the 60,000 training images.
        var clock = Stopwatch.StartNew();
        using var references = Embedder.EmbedAll(network, trainInputs);
        using var queries = Embedder.EmbedAll(network, testInputs);
        var evaluation = result.GetValue(clustering) ? new RetrievalEvaluationOptions { Clustering = true, ClusteringSeed = options.Seed } : null;
        var retrieval = RetrievalEvaluator.Evaluate(queries, mnist.Test.Labels, references, mnist.Train.Labels, comparison, options: evaluation);
        string clusters = retrieval.Nmi is double nmi ? string.Create(culture, $", NMI {100 * nmi:F2}%, AMI {100 * retrieval.Ami!.Value:F2}% (k-means of the test embeddings)") : "";
        Console.WriteLine(string.Create(culture,
            $"* Retrieval, {retrieval.QueryCount} test queries against {mnist.Train.Count} training images ({clock.Elapsed.TotalSeconds:F1} s): precision@1 {100 * retrieval.PrecisionAt1:F2}%, R-precision {100 * retrieval.RPrecision:F2}%, MAP@R {100 * retrieval.MapAtR:F2}%{clusters}"));

        // Verification on the reference test pairs, with a threshold calibrated on held-out training pairs.
        var model = new SiameseNetwork(network, comparison);
        var testPairs = SiameseMnistPreset.CreatePairs(mnist.Test, testInputs, options.Seed);
        var heldOut = new PairDataset(trainInputs, new RandomPairSampler(testPairs.Pairs.Count, options.Seed + 1).Sample(mnist.Train.Labels));
        float[] Scores(PairDataset pairs) { using var s = PairEvaluator.Distances(model, pairs); return s.cpu().data<float>().ToArray(); }
        var calibration = VerificationEvaluator.Evaluate(Scores(heldOut), heldOut.Pairs.IsSame, comparison.IsSimilarity);
        float[] testScores = Scores(testPairs);
        var test = VerificationEvaluator.Evaluate(testScores, testPairs.Pairs.IsSame, comparison.IsSimilarity);
        double accuracy = PairEvaluator.Accuracy(model, testPairs, calibration.BestAccuracyThreshold);
        Console.WriteLine(string.Create(culture,
            $"* Verification on {testPairs.Pairs.Count} test pairs: threshold {calibration.BestAccuracyThreshold:F4} (calibrated on {heldOut.Pairs.Count} held-out training pairs), accuracy {100 * accuracy:F2}%, ROC AUC {test.RocAuc:F4}, equal error rate {100 * test.EqualErrorRate:F2}%"));
        if (result.GetValue(report) is { } reportFolder)
        {
            var nearest = RetrievalReport.Neighbours(queries, references, comparison, mnist.Test.Labels, mnist.Train.Labels);
            string page = RetrievalReport.Write(reportFolder, options, result.GetValue(lossName)!, minerChoice, reports, retrieval, mnist, queries,
                testScores, testPairs.Pairs.IsSame, comparison.IsSimilarity, calibration.BestAccuracyThreshold, accuracy, test, nearest);
            Console.WriteLine($"* Report written to {page}");
        }

        if (result.GetValue(save) is { } saveFolder)
        {
            // The model (network, comparison, calibrated threshold) and the training set as a searchable index.
            string modelFolder = System.IO.Path.Combine(saveFolder, "model"), indexPath = System.IO.Path.Combine(saveFolder, "index.bin");
            // With the inputs' preprocessing (pixels / 255) and shape, so the loaded model embeds raw pixel values as training did.
            new TrainedModel(network, comparison, calibration.BestAccuracyThreshold, trainInputs.Preprocessing, trainInputs.InputShape).Save(modelFolder);
            using var index = new EmbeddingIndex(comparison);
            index.Add(references, mnist.Train.Labels);
            index.Save(indexPath);
            Console.WriteLine($"* Saved the model to {modelFolder} and the index of {index.Count} training embeddings to {indexPath}");
            if (comparison is CosineSimilarity)
            {
                // The same embeddings in an HNSW graph too, for services that search many more than 60,000.
                string approximatePath = System.IO.Path.Combine(saveFolder, "index.ann");
                using var host = references.cpu().contiguous();
                var flat = host.data<float>().ToArray();
                int width = (int)host.shape[1];
                var vectors = Enumerable.Range(0, mnist.Train.Count).Select(i => flat.AsSpan(i * width, width).ToArray()).ToArray();
                using var approximate = new ApproximateIndex(width, IndexMetric.Cosine);
                approximate.Add(Enumerable.Range(0, vectors.Length).Select(i => (long)i).ToArray(), vectors, mnist.Train.Labels);
                approximate.Save(approximatePath);
                Console.WriteLine($"* Saved an approximate (HNSW) index of the same embeddings to {approximatePath}");
            }
        }

        if (result.GetValue(exportOnnx) is { } onnxPath)
        {
            // The same model as one ONNX file: network, preprocessing (pixels / 255), comparison and threshold.
            new TrainedModel(network, comparison, calibration.BestAccuracyThreshold, trainInputs.Preprocessing, trainInputs.InputShape).ExportOnnx(onnxPath);
            Console.WriteLine($"* Exported the model to {System.IO.Path.GetFullPath(onnxPath)} (ONNX; serve it with MetricLearning.Onnx)");
        }

        Console.WriteLine(string.Create(culture,
            $"RESULT epochs={reports.Count} precision_at_1={100 * retrieval.PrecisionAt1:F2} r_precision={100 * retrieval.RPrecision:F2} map_at_r={100 * retrieval.MapAtR:F2}{(retrieval.Nmi is double n ? string.Create(culture, $" nmi={100 * n:F2} ami={100 * retrieval.Ami!.Value:F2}") : "")} sec_per_epoch={(reports.Count == 0 ? 0 : reports.Average(r => r.TrainSeconds)):F2}"));
        return 0;
    }
    catch (EmbeddingCollapseException ex)
    {
        Console.Error.WriteLine($"error: {ex.Message} Here: --miner-warmup N, --miner semi-hard or a lower --learning-rate.");
        return 1;
    }
    catch (OperationCanceledException)
    {
        Console.Error.WriteLine("error: cancelled.");
        return 130;
    }
    catch (Exception ex) when (ex is not OutOfMemoryException)
    {
        Console.Error.WriteLine($"error: {ex.Message.ReplaceLineEndings(" ")}");
        return 1;
    }
});

return await root.Parse(args).InvokeAsync();

// What a service does with the saved files: embed new images, look them up in the index, verify pairs with the
// saved threshold. Without the training set or the trainer; the figures match the run that saved them.
static int EvaluateSaved(string folder, MnistDataset mnist, InputSet testInputs, int seed, Device target, string? onnxPath)
{
    var culture = CultureInfo.InvariantCulture;
    var clock = Stopwatch.StartNew();
    using var model = TrainedModel.Load(System.IO.Path.Combine(folder, "model"), target);
    if (onnxPath is not null)
    {
        model.ExportOnnx(onnxPath);
        Console.WriteLine($"* Exported the model to {System.IO.Path.GetFullPath(onnxPath)} (ONNX; serve it with MetricLearning.Onnx)");
    }

    using var index = EmbeddingIndex.Load(System.IO.Path.Combine(folder, "index.bin"), model.Distance, target);
    using var queries = Embedder.EmbedAll(model.Network, testInputs);
    var nearest = index.Search(queries, k: 1);
    double precisionAt1 = Enumerable.Range(0, mnist.Test.Count).Count(q => nearest.Labels[q][0] == mnist.Test.Labels[q]) / (double)mnist.Test.Count;
    string approximateResult = "";
    string approximatePath = System.IO.Path.Combine(folder, "index.ann");
    if (System.IO.File.Exists(approximatePath) && model.Distance is CosineSimilarity)
    {
        // The same evaluation on the HNSW index, through the index seam both indexes share.
        using var approximate = ApproximateIndex.Load(approximatePath, IndexMetric.Cosine, (int)queries.shape[1]);
        using var host = queries.cpu().contiguous();
        var flat = host.data<float>().ToArray();
        int width = (int)host.shape[1];
        var queryRows = Enumerable.Range(0, mnist.Test.Count).Select(i => flat.AsSpan(i * width, width).ToArray()).ToArray();
        var searchClock = Stopwatch.StartNew();
        var approximateMetrics = RetrievalEvaluator.Evaluate(approximate, queryRows, mnist.Test.Labels, maxR: 1);
        Console.WriteLine(string.Create(culture,
            $"* Approximate index {approximatePath} (search breadth {approximate.SearchBreadth}): precision@1 {100 * approximateMetrics.PrecisionAt1:F2}% in {searchClock.Elapsed.TotalSeconds:F2} s for {queryRows.Length} queries"));
        approximateResult = string.Create(culture, $" approximate_precision_at_1={100 * approximateMetrics.PrecisionAt1:F2}");
    }

    var testPairs = SiameseMnistPreset.CreatePairs(mnist.Test, testInputs, seed);
    double accuracy = PairEvaluator.Accuracy(new SiameseNetwork(model.Network, model.Distance), testPairs, model.Threshold);
    Console.WriteLine(string.Create(culture,
        $"* Loaded {folder}: {model.Distance.GetType().Name}, threshold {model.Threshold:F4}, index of {index.Count} embeddings; {mnist.Test.Count} test queries and {testPairs.Pairs.Count} test pairs in {clock.Elapsed.TotalSeconds:F1} s"));
    Console.WriteLine(string.Create(culture,
        $"RESULT loaded precision_at_1={100 * precisionAt1:F2} test_pair_accuracy={100 * accuracy:F2}{approximateResult}"));
    return 0;
}

/// <summary>Reports on the training thread.</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
