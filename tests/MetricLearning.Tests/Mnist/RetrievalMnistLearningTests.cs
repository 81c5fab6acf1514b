using System.Threading.Tasks;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Evaluation;
using MetricLearning.Losses;
using MetricLearning.Mining;
using MetricLearning.Mnist;
using MetricLearning.Training;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Mnist;

public sealed class RetrievalMnistLearningTests
{
    [Fact]
    public async Task A_mined_batch_loss_learns_retrievable_digits()
    {
        var mnist = MnistDataset.Load(await MnistData.FolderAsync());
        var train = mnist.Train.Take(10_000);
        var test = mnist.Test.Take(2_000);
        using var trainInputs = train.ToInputSet(CPU);
        using var testInputs = test.ToInputSet(CPU);
        using var network = SiameseMnistPreset.CreateNetwork(seed: 4, CPU);
        var options = new EmbeddingTrainerOptions { Epochs = 2, SamplesPerClass = 32, BatchSize = 320, Seed = 4 };

        RetrievalMetrics Measure()
        {
            using var references = Embedder.EmbedAll(network, trainInputs);
            using var queries = Embedder.EmbedAll(network, testInputs);
            return RetrievalEvaluator.Evaluate(queries, test.Labels, references, train.Labels, new CosineSimilarity());
        }

        var untrained = Measure();
        var reports = new EmbeddingTrainer(new MultiSimilarityLoss(), options, new MultiSimilarityMiner()).Fit(network, trainInputs, train.Labels);

        var retrieval = Measure();
        reports.Should().OnlyContain(r => r.Mined && r.Spread > 0.1);
        // Raw pixels already retrieve digits well, so an untrained network's precision@1 is high; MAP@R, which ranks
        // every same-class image, is where training shows. The same network untrained is the yardstick.
        retrieval.PrecisionAt1.Should().BeGreaterThan(untrained.PrecisionAt1, "training improves the nearest neighbour");
        retrieval.MapAtR.Should().BeGreaterThan(untrained.MapAtR + 0.15, $"the untrained network's MAP@R is {untrained.MapAtR:F3}");
    }
}
