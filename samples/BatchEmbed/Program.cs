using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using BatchEmbed;
using MetricLearning.Mnist.Idx;
using MetricLearning.Runtime;

// Embeds an IDX image set with a saved model, one shard at a time, into .npy files that NumPy and vector-database
// loaders read. Run shards 0..n-1 anywhere (one machine or many); together they hold every image exactly once.
var model = new Option<string>("--model") { Description = "A model folder saved by TrainedModel.Save (RetrievalMnist --save writes one as model/).", Required = true };
var images = new Option<string>("--images") { Description = "IDX images file (plain or .gz).", Required = true };
var labels = new Option<string?>("--labels") { Description = "IDX labels file of the same images; without it no labels.npy is written." };
var output = new Option<string>("--output") { Description = "Folder for the shard folders (shard-IIIII-of-NNNNN).", Required = true };
var shard = new Option<string>("--shard") { Description = "i/n: this run writes shard i (from 0) of n.", DefaultValueFactory = _ => "0/1" };
var batchSize = new Option<int>("--batch-size") { Description = "Images per forward pass (memory is about this many images and embeddings).", DefaultValueFactory = _ => 1024 };
var threads = new Option<int>("--threads") { Description = "CPU threads for torch.", DefaultValueFactory = _ => TorchRuntime.RecommendedThreadCount };
var overwrite = new Option<bool>("--overwrite") { Description = "Replace the shard's folder if it exists." };
var root = new RootCommand("Embed an IDX image set with a saved model into .npy shards (embeddings, keys, labels).") { model, images, labels, output, shard, batchSize, threads, overwrite };
root.SetAction(result =>
{
    string shardText = result.GetValue(shard)!;
    var parts = shardText.Split('/');
    if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
        || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count < 1 || index >= count)
    {
        Console.Error.WriteLine($"error: --shard '{shardText}' is not i/n with 0 <= i < n (for example 0/4).");
        return 2;
    }

    if (result.GetValue(threads) < 1)
    {
        Console.Error.WriteLine("error: --threads must be at least 1.");
        return 2;
    }

    TorchRuntime.SetThreadCount(result.GetValue(threads));
    try
    {
        var done = ShardEmbedder.Run(
            new EmbedRequest(result.GetValue(model)!, result.GetValue(images)!, result.GetValue(labels), result.GetValue(output)!, index, count, result.GetValue(batchSize), result.GetValue(overwrite)),
            Console.WriteLine);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT shard={index}/{count} first_key={done.FirstKey} count={done.Count} dimensions={done.Dimensions} seconds={done.Seconds:F1} folder={done.Folder}"));
        return 0;
    }
    catch (Exception ex) when (ex is ArgumentException or IOException or IdxFormatException or InvalidDataException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"error: {ex.Message}");
        return 1;
    }
});

return root.Parse(args).Invoke();
