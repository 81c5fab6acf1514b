using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using FluentAssertions;
using MetricLearning.Losses;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Indexing;
using MetricLearning.Mnist.Idx;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Tests.Mnist;
using MetricLearning.Tests.TestSupport;
using MetricLearning.Training;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Formats;

/// <summary>
/// Every file format the library reads, fed thousands of seeded corruptions of a valid file: each variant is either
/// read or refused with the documented exception naming the file; never another exception, and never an allocation
/// out of proportion to the file (a lying header must not make the reader reserve gigabytes).
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    /// <summary>Variants per format in CI; raise it locally with METRICLEARNING_FUZZ_VARIANTS for a longer run.</summary>
    private static int Variants => int.TryParse(Environment.GetEnvironmentVariable("METRICLEARNING_FUZZ_VARIANTS"), out int n) && n > 0 ? n : 600;

    /// <summary>Managed bytes a read may allocate: a few times the file, plus a fixed allowance for the reader's own workings.</summary>
    private static long Allowance(long fileLength) => 4 * fileLength + (8 << 20);

    private void Fuzz<TExpected>(byte[] valid, string path, Action read, int seed, int headerBytes = 64)
        where TExpected : Exception
    {
        int accepted = 0, refused = 0;
        foreach (var (what, bytes) in Mutations.Of(valid, Variants, seed, headerBytes))
        {
            File.WriteAllBytes(path, bytes);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                read();
                accepted++;
            }
            catch (TExpected ex)
            {
                ex.Message.Should().Contain(path, $"the refusal of a file with {what} names it");
                refused++;
            }
            catch (Exception ex)
            {
                throw new Xunit.Sdk.XunitException($"A file with {what} gave {ex.GetType().Name} instead of {typeof(TExpected).Name}: {ex.Message}");
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            allocated.Should().BeLessThan(Allowance(bytes.Length), $"reading a {bytes.Length}-byte file with {what} must not allocate out of proportion");
        }

        output.WriteLine($"{Variants} variants: {accepted} read, {refused} refused");
        refused.Should().BeGreaterThan(Variants / 2, "most corruptions are detected");
    }

    [Fact]
    public void Idx_files_plain_and_gzip()
    {
        using var folder = new TempFolder();
        string path = folder.File("images");
        var valid = IdxFiles.Images(count: 12, side: 5);
        Fuzz<IdxFormatException>(valid, path, () => IdxReader.Read(path), seed: 1, headerBytes: 16);
        Fuzz<IdxFormatException>(IdxFiles.Gzip(valid), path, () => IdxReader.Read(path), seed: 2, headerBytes: 24);
    }

    [Fact]
    public void Checkpoints()
    {
        var (inputs, labels) = Blobs.Create(perClass: 6, classes: 2, dimensions: 4, seed: 3);
        using var _ = inputs;
        using var folder = new TempFolder();
        manual_seed(3);
        using (var network = new MlpEmbeddingNetwork(new MlpOptions { InputSize = 4, LayerSizes = new[] { 8, 4 } }))
            new SiameseTrainer(new ContrastiveLoss(), options: new TrainerOptions { Epochs = 1, Checkpoint = { Folder = folder.Path } }).Fit(new SiameseNetwork(network), new LabelledData(inputs, labels));
        string path = Path.Combine(folder.Path, CheckpointOptions.FileName);

        Fuzz<CheckpointException>(File.ReadAllBytes(path), path, () => CheckpointFile.Read(path), seed: 4);
    }

    [Fact]
    public void Checkpoints_whose_hash_is_recomputed_are_parsed_and_refused_or_resumed_never_crashing()
    {
        // The SHA-256 catches every accidental change; these variants recompute it, as someone editing the file
        // would, so that the description and every blob are parsed and resumed through Fit.
        var (inputs, labels) = Blobs.Create(perClass: 6, classes: 2, dimensions: 4, seed: 9);
        using var _ = inputs;
        using var folder = new TempFolder();
        var options = new TrainerOptions { Epochs = 1, Checkpoint = { Folder = folder.Path } };
        MlpEmbeddingNetwork Network()
        {
            manual_seed(9);
            return new MlpEmbeddingNetwork(new MlpOptions { InputSize = 4, LayerSizes = new[] { 8, 4 } });
        }

        using (var network = Network())
            new SiameseTrainer(new ContrastiveLoss(), options: options).Fit(new SiameseNetwork(network), new LabelledData(inputs, labels));
        string path = Path.Combine(folder.Path, CheckpointOptions.FileName);
        byte[] valid = File.ReadAllBytes(path);
        var resume = new TrainerOptions { Epochs = 1, Checkpoint = { Folder = folder.Path, Resume = true } };
        int resumed = 0, refused = 0;
        foreach (var (what, mutated) in Mutations.Of(valid[..^32], Variants / 3, seed: 10, headerBytes: 400))
        {
            var bytes = mutated.Concat(System.Security.Cryptography.SHA256.HashData(mutated)).ToArray();
            File.WriteAllBytes(path, bytes);
            using var network = Network();
            try
            {
                new SiameseTrainer(new ContrastiveLoss(), options: resume).Fit(new SiameseNetwork(network), new LabelledData(inputs, labels));
                resumed++;
            }
            catch (CheckpointException ex)
            {
                ex.Message.Should().Contain(path, $"the refusal of a checkpoint with {what} names it");
                refused++;
            }
            catch (Exception ex)
            {
                throw new Xunit.Sdk.XunitException($"A checkpoint with {what} (hash recomputed) gave {ex.GetType().Name} instead of CheckpointException: {ex.Message}");
            }
        }

        output.WriteLine($"{Variants / 3} variants with recomputed hashes: {resumed} resumed, {refused} refused");
        refused.Should().BeGreaterThan(Variants / 6, "most corruptions are detected");
    }

    [Fact]
    public void Indexes()
    {
        using var folder = new TempFolder();
        string path = folder.File("index.bin");
        using (var index = new EmbeddingIndex(new CosineSimilarity()))
        {
            index.Add(Enumerable.Range(0, 10).Select(i => new[] { i, 1f, -i, 0.5f }).ToArray(), Enumerable.Range(0, 10).Select(i => i % 3).ToArray());
            index.Save(path);
        }

        Fuzz<InvalidDataException>(File.ReadAllBytes(path), path, () => EmbeddingIndex.Load(path).Dispose(), seed: 5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Managed_exact_indexes(bool keyed)
    {
        using var folder = new TempFolder();
        string path = folder.File("index.bin");
        using (var index = new ExactIndex(MetricLearning.Distances.EmbeddingDistance.Create("EuclideanDistance"), 4))
        {
            index.Add(Enumerable.Range(0, 10).Select(i => keyed ? 100L + 7 * i : i).ToArray(), Enumerable.Range(0, 10).Select(i => new[] { i, 1f, -i, 0.5f }).ToArray(), Enumerable.Range(0, 10).Select(i => i % 3).ToArray());
            index.Save(path);
        }

        Fuzz<InvalidDataException>(File.ReadAllBytes(path), path, () => ExactIndex.Load(path).Dispose(), seed: keyed ? 13 : 11);
    }

    [Fact]
    public async Task Vector_store_collections()
    {
        using var folder = new TempFolder();
        using (var store = new MetricLearning.VectorData.FolderVectorStore(folder.Path))
        {
            var points = store.GetCollection<long, MetricLearning.Tests.VectorData.FolderVectorStoreTests.Point>("points");
            await points.EnsureCollectionExistsAsync();
            var random = new Random(3);
            await points.UpsertAsync(Enumerable.Range(0, 8).Select(i =>
            {
                var vector = Enumerable.Range(0, 8).Select(_ => (float)random.NextDouble()).ToArray();
                return new MetricLearning.Tests.VectorData.FolderVectorStoreTests.Point { Id = i, Group = i % 3, Exact = vector, Approximate = vector };
            }));
            await points.DeleteAsync(5);
        }

        string path = Path.Combine(folder.Path, "points", "records.jsonl");
        Fuzz<InvalidDataException>(File.ReadAllBytes(path), path, () => ReadAllPoints(folder.Path), seed: 17, headerBytes: 16);
    }

    /// <summary>Opens the store and reads every record (its operations complete synchronously; the fuzzer's reads are synchronous).</summary>
    private static void ReadAllPoints(string folder)
    {
        using var store = new MetricLearning.VectorData.FolderVectorStore(folder);
        store.GetCollection<long, MetricLearning.Tests.VectorData.FolderVectorStoreTests.Point>("points")
            .GetAsync(p => true, 100).ToListAsync().AsTask().GetAwaiter().GetResult();
    }

    [Fact]
    public void Approximate_indexes()
    {
        using var folder = new TempFolder();
        string path = folder.File("index.ann");
        using (var index = new ApproximateIndex(4, IndexMetric.Cosine))
        {
            index.Add(Enumerable.Range(0, 10).Select(i => (long)i).ToArray(), Enumerable.Range(0, 10).Select(i => new[] { i, 1f, -i, 0.5f }).ToArray(), Enumerable.Range(0, 10).Select(i => i % 3).ToArray());
            index.Save(path);
        }

        Fuzz<InvalidDataException>(File.ReadAllBytes(path), path, () => ApproximateIndex.Load(path, IndexMetric.Cosine, 4).Dispose(), seed: 9, headerBytes: 40);
    }

    [Fact]
    public void Model_descriptions_and_weights()
    {
        using var folder = new TempFolder();
        manual_seed(6);
        using (var network = new MlpEmbeddingNetwork(new MlpOptions { InputSize = 4, LayerSizes = new[] { 8, 4 } }))
            new TrainedModel(network, new EuclideanDistance(), 0.5, new InputScaling(0.5f), new long[] { 4 }).Save(folder.Path);
        string description = Path.Combine(folder.Path, "model.json");
        string weights = Directory.GetFiles(folder.Path).Single(file => file != description);
        byte[] validDescription = File.ReadAllBytes(description), validWeights = File.ReadAllBytes(weights);

        Fuzz<InvalidDataException>(validDescription, description, () => TrainedModel.Load(folder.Path).Dispose(), seed: 7, headerBytes: validDescription.Length);
        File.WriteAllBytes(description, validDescription);
        Fuzz<InvalidDataException>(validWeights, weights, () => TrainedModel.Load(folder.Path).Dispose(), seed: 8);
    }

    [Fact]
    public void Onnx_models()
    {
        using var folder = new TempFolder();
        string path = folder.File("model.onnx");
        manual_seed(10);
        float[] input = { 1f, 2f, 3f, 4f }, expected;
        using (var network = new MlpEmbeddingNetwork(new MlpOptions { InputSize = 4, LayerSizes = new[] { 8, 4 } }))
        using (var model = new TrainedModel(network, new EuclideanDistance(), 0.5, new InputScaling(0.5f), new long[] { 4 }, new[] { "a", "b" }))
        {
            MetricLearning.Onnx.Export.TrainedModelOnnxExtensions.ExportOnnx(model, path);
            expected = model.Embed(input);
        }

        // A variant that is read must embed as the original does: only what the checksum does not cover (the producer's name) can differ.
        Fuzz<InvalidDataException>(File.ReadAllBytes(path), path, () =>
        {
            using var served = MetricLearning.Onnx.OnnxEmbeddingModel.Load(path);
            served.Embed(input).Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-5f);
        }, seed: 11);
    }
}
