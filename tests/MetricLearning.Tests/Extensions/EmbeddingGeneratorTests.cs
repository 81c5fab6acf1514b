using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using FluentAssertions;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Extensions.AI;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Extensions;

public sealed class EmbeddingGeneratorTests
{
    private static void SaveModel(string folder)
    {
        manual_seed(71);
        using var network = new MlpEmbeddingNetwork(new MlpOptions { InputSize = 6, LayerSizes = new[] { 16, 12 } });
        // Inputs scaled and centred on the way in, as a model trained on raw 0-255 values would be.
        new TrainedModel(network, new CosineSimilarity(), 0.8, new InputScaling(1f / 255f, mean: 0.5f, standardDeviation: 0.25f), new long[] { 6 }).Save(folder);
    }

    private static float[][] Inputs(int count)
    {
        var random = new Random(71);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, 6).Select(_ => (float)random.Next(256)).ToArray()).ToArray();
    }

    [Fact]
    public async Task The_generator_resolved_from_di_gives_the_saved_models_embeddings_with_its_metadata()
    {
        using var folder = new TempFolder();
        string modelFolder = Path.Combine(folder.Path, "digits-v1");
        SaveModel(modelFolder);
        var inputs = Inputs(7);
        float[][] expected;
        float[] expectedSingle;
        using (var loaded = TrainedModel.Load(modelFolder))
        {
            expected = loaded.Embed(inputs);
            expectedSingle = loaded.Embed(inputs[3]);
        }

        var services = new ServiceCollection().AddTrainedModelEmbeddingGenerator(modelFolder);
        await using var provider = services.BuildServiceProvider();

        var generator = provider.GetRequiredService<IEmbeddingGenerator<float[], Embedding<float>>>();
        var embeddings = await generator.GenerateAsync(inputs);

        embeddings.Should().HaveCount(7);
        // Separate forward passes may round the last bit differently (MKL's alignment-dependent kernels, see docs/how-to/serve.md).
        for (int i = 0; i < inputs.Length; i++)
            embeddings[i].Vector.ToArray().Should().Equal(expected[i], (a, b) => Math.Abs(a - b) <= 1e-6f, "the generator embeds raw inputs as TrainedModel.Embed does, preprocessing included");
        embeddings.Should().OnlyContain(e => e.ModelId == "digits-v1");
        var metadata = generator.GetService<EmbeddingGeneratorMetadata>()!;
        (metadata.ProviderName, metadata.DefaultModelId, metadata.DefaultModelDimensions).Should().Be(("MetricLearning", "digits-v1", 12));
        generator.GetService<TrainedModel>().Should().BeSameAs(provider.GetRequiredService<TrainedModel>());
        // One input alone runs as a batch of one, as TrainedModel.Embed(float[]) does (a batch of 7 can differ in the last bits).
        (await generator.GenerateVectorAsync(inputs[3])).ToArray().Should().Equal(expectedSingle, (a, b) => Math.Abs(a - b) <= 1e-6f, "the one-input helper of the abstraction works too");
    }

    [Fact]
    public async Task Bad_requests_are_refused_naming_the_problem_and_a_missing_folder_fails_at_registration()
    {
        using var folder = new TempFolder();
        SaveModel(folder.Path);
        using var model = TrainedModel.Load(folder.Path);
        await using var batcher = new EmbeddingBatcher(model);
        var generator = new TrainedModelEmbeddingGenerator(batcher, "m");

        await generator.Invoking(g => g.GenerateAsync(new[] { new float[5] })).Should().ThrowAsync<ArgumentException>().WithMessage("*5 values*shape [6]*");
        await generator.Invoking(g => g.GenerateAsync(Inputs(1), new EmbeddingGenerationOptions { Dimensions = 4 }))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*12 dimensions; 4 were asked for*");
        var missing = Path.Combine(folder.Path, "nope");
        new ServiceCollection().Invoking(s => s.AddTrainedModelEmbeddingGenerator(missing))
            .Should().Throw<DirectoryNotFoundException>().WithMessage($"*{missing}*");
    }
}
