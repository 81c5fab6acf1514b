using System;
using System.Linq;
using System.Threading.Tasks;
using MetricLearning.Bench.Serving;
using MetricLearning.Models;
using MetricLearning.Runtime;

// TorchServeApp MODEL_FOLDER cold | throughput CALLERS SECONDS [THREADS]: the TorchSharp side of bench/compare-serving.sh.
if (args.Length > 4)
    TorchRuntime.SetThreadCount(int.Parse(args[4]));
return Callers.Run(args, folder =>
{
    var model = TrainedModel.Load(folder);
    var batcher = new EmbeddingBatcher(model);
    int length = (int)model.InputShape!.Aggregate(1L, (a, b) => a * b);
    return (length, input => model.Embed(input), input => batcher.EmbedAsync(input), new Owner(batcher, model));
});

/// <summary>Disposes the batcher, then the model.</summary>
internal sealed class Owner(EmbeddingBatcher batcher, TrainedModel model) : IDisposable
{
    public void Dispose()
    {
        batcher.Dispose();
        model.Dispose();
    }
}
