using System.Linq;
using MetricLearning.Bench.Serving;
using MetricLearning.Onnx;

// OnnxServeApp MODEL.onnx cold | throughput CALLERS SECONDS [THREADS]: the ONNX side of bench/compare-serving.sh.
int threads = args.Length > 4 ? int.Parse(args[4]) : 0;
return Callers.Run(args, path =>
{
    var model = OnnxEmbeddingModel.Load(path, new OnnxModelOptions { Threads = threads });
    int length = (int)model.InputShape.Aggregate(1L, (a, b) => a * b);
    return (length, input => model.Embed(input), input => model.EmbedAsync(input), model);
});
