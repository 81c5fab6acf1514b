using System;
using System.IO;
using System.Linq;
using MetricLearning.Losses;
using MetricLearning.Data;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Training;
using static TorchSharp.torch;

// Usage: MetricLearning.CheckpointHost CHECKPOINT_FOLDER WEIGHTS_OUT [--resume]
// Trains a small Siamese MLP (dropout on) on synthetic blobs with a checkpoint after every epoch, then writes the final
// weights' bytes to WEIGHTS_OUT. Prints "training" when training starts, so a test knows when to kill it.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: MetricLearning.CheckpointHost CHECKPOINT_FOLDER WEIGHTS_OUT [--resume]");
    return 2;
}

set_num_threads(1);
var random = new Random(5);
const int Count = 4000, Dimensions = 16, Classes = 6;
var centres = Enumerable.Range(0, Classes).Select(_ => Enumerable.Range(0, Dimensions).Select(_ => random.NextDouble() * 6 - 3).ToArray()).ToArray();
var labels = Enumerable.Range(0, Count).Select(i => i % Classes).ToArray();
var rows = labels.Select(label => centres[label].Select(c => (float)(c + random.NextDouble() * 2 - 1)).ToArray()).ToArray();
using var inputs = InputSet.FromRows(rows);

manual_seed(5);
using var network = new MlpEmbeddingNetwork(new MlpOptions { InputSize = Dimensions, LayerSizes = new[] { 128, 128, 32 }, Dropout = 0.1 });
var options = new TrainerOptions
{
    Epochs = 60,
    BatchSize = 32,
    Seed = 5,
    EvaluateTrainingPairs = false,
    Checkpoint = { Folder = args[0], Resume = args.Contains("--resume") },
};
Console.WriteLine("training");
Console.Out.Flush();
new SiameseTrainer(new ContrastiveLoss(), options: options).Fit(new SiameseNetwork(network), new LabelledData(inputs, labels));

using var stream = File.Create(args[1]);
foreach (var parameter in network.Module.parameters())
{
    using var host = parameter.detach().cpu().contiguous();
    stream.Write(host.bytes);
}

Console.WriteLine("done");
return 0;
