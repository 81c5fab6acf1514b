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

        var reports = new EmbeddingTrainer(new MultiSimilarityLoss(), options, new MultiSimilarityMiner()).Fit(network, trainInputs, train.Labels);

        using var references = Embedder.EmbedAll(network, trainInputs);
        using var queries = Embedder.EmbedAll(network, testInputs);
        var retrieval = RetrievalEvaluator.Evaluate(queries, test.Labels, references, train.Labels, new CosineSimilarity());
        reports.Should().OnlyContain(r => r.Mined && r.Spread > 0.1);
        // 2 epochs on a sixth of the training digits reached 0.904 (2026-11-29, one thread); chance is about 0.1 and
        // the full sample reaches 0.98. The floor of 0.80 leaves room for other thread counts and machines.
        retrieval.PrecisionAt1.Should().BeGreaterThan(0.80);
    }
}
