using System;
using System.IO;
using System.Linq;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Models;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Models;

public sealed class TrainedModelTests
{
    private static TrainedModel Model(int seed, IDistance distance, double threshold = 0.5)
    {
        manual_seed(seed);
        return new TrainedModel(new MlpEmbeddingNetwork(new MlpOptions { InputSize = 4, LayerSizes = new[] { 6, 3 } }), distance, threshold);
    }

    [Fact]
    public void A_saved_model_loads_back_and_embeds_and_verifies_the_same()
    {
        using var folder = new TempFolder();
        using var model = Model(1, new LpDistance(3, normalize: true), threshold: 0.8);
        using var a = rand(5, 4);
        using var b = rand(5, 4);
        model.Save(folder.Path);

        using var loaded = TrainedModel.Load(folder.Path);

        loaded.Threshold.Should().Be(0.8);
        loaded.Distance.Should().BeOfType<LpDistance>().Which.P.Should().Be(3);
        ((LpDistance)loaded.Distance).Normalize.Should().BeTrue();
        loaded.Network.Should().BeOfType<MlpEmbeddingNetwork>().Which.Options.LayerSizes.Should().Equal(6, 3);
        Tensors.Values(loaded.Embed(a)).Should().Equal(Tensors.Values(model.Embed(a)));
        loaded.Verify(a, b).Should().Equal(model.Verify(a, b));
        Directory.GetFiles(folder.Path).Should().HaveCount(2, "weights.bin and model.json, no temporary files");
        File.ReadAllText(Path.Combine(folder.Path, "model.json")).Should().Contain("\"Activation\": \"Relu\"").And.Contain("\"Type\": \"MlpEmbeddingNetwork\"");
    }

    [Fact]
    public void Verify_reads_a_similarity_the_right_way_round()
    {
        using var model = Model(2, new CosineSimilarity(), threshold: 0.999);
        using var a = rand(3, 4);

        model.Verify(a, a).Should().OnlyContain(same => same, "an input is as similar as can be to itself");
    }

    [Fact]
    public void Weights_from_another_save_are_refused()
    {
        using var first = new TempFolder();
        using var second = new TempFolder();
        using (var model = Model(1, new EuclideanDistance()))
            model.Save(first.Path);
        using (var other = Model(2, new EuclideanDistance()))
            other.Save(second.Path);
        File.Copy(Path.Combine(second.Path, "weights.bin"), Path.Combine(first.Path, "weights.bin"), overwrite: true);

        var act = () => TrainedModel.Load(first.Path);

        act.Should().Throw<InvalidDataException>().WithMessage("*weights.bin*SHA-256 differs*");
    }

    [Fact]
    public void A_description_of_another_format_or_an_unknown_distance_is_refused()
    {
        using var folder = new TempFolder();
        using (var model = Model(1, new EuclideanDistance()))
            model.Save(folder.Path);
        string description = Path.Combine(folder.Path, "model.json");
        string original = File.ReadAllText(description);

        File.WriteAllText(description, original.Replace("metriclearning-model/3", "metriclearning-model/99"));
        var future = () => TrainedModel.Load(folder.Path);
        future.Should().Throw<InvalidDataException>().WithMessage("*metriclearning-model/99*");

        File.WriteAllText(description, original.Replace("\"EuclideanDistance\"", "\"WormholeDistance\""));
        var unknown = () => TrainedModel.Load(folder.Path);
        unknown.Should().Throw<InvalidDataException>().WithMessage("*WormholeDistance*");

        File.WriteAllText(description, "{ not json");
        var garbage = () => TrainedModel.Load(folder.Path);
        garbage.Should().Throw<InvalidDataException>().WithMessage("*not a model description*");
    }

    /// <summary>A network of the user's own: two linear layers with a tanh between.</summary>
    private sealed class TwoLayerNetwork : IEmbeddingNetwork
    {
        public TwoLayerNetwork(int hidden) =>
            Module = TorchSharp.torch.nn.Sequential(TorchSharp.torch.nn.Linear(4, hidden), TorchSharp.torch.nn.Tanh(), TorchSharp.torch.nn.Linear(hidden, 3));

        public long EmbeddingSize => 3;

        public TorchSharp.torch.nn.Module<Tensor, Tensor> Module { get; }
    }

    /// <summary>A preprocessing of the user's own: x² − 1, which the library cannot describe.</summary>
    private sealed class SquareMinusOne : IInputPreprocessing
    {
        public Tensor Apply(Tensor inputs) => inputs.square() - 1;
    }

    [Fact]
    public void A_network_distance_and_preprocessing_of_the_users_own_save_and_load_through_registered_factories()
    {
        using var folder = new TempFolder();
        manual_seed(3);
        using var model = new TrainedModel(new TwoLayerNetwork(5), new CustomDistance(), 0.9, new SquareMinusOne(), new long[] { 4 });
        var a = new[] { 0.1f, 0.5f, 0.9f, 0.3f };
        var b = new[] { 0.7f, 0.2f, 0.4f, 0.8f };
        model.Save(folder.Path);
        var components = new ModelComponents()
            .Add(() => new TwoLayerNetwork(5))
            .Add(() => new CustomDistance())
            .Add(() => new SquareMinusOne());

        var withoutFactories = () => TrainedModel.Load(folder.Path);
        var withoutPreprocessing = () => TrainedModel.Load(folder.Path, new ModelComponents().Add(() => new TwoLayerNetwork(5)).Add(() => new CustomDistance()));
        var wrongShape = () => TrainedModel.Load(folder.Path, new ModelComponents().Add(() => new TwoLayerNetwork(7)).Add(() => new CustomDistance()).Add(() => new SquareMinusOne()));
        manual_seed(99);
        using var loaded = TrainedModel.Load(folder.Path, components);

        withoutFactories.Should().Throw<InvalidDataException>().WithMessage("*CustomDistance*register a factory*");
        withoutPreprocessing.Should().Throw<InvalidDataException>().WithMessage("*preprocessing*SquareMinusOne*register a factory*");
        wrongShape.Should().Throw<InvalidDataException>().WithMessage("*do not fit*");
        loaded.Network.Should().BeOfType<TwoLayerNetwork>();
        loaded.Distance.Should().BeOfType<CustomDistance>();
        loaded.Preprocessing.Should().BeOfType<SquareMinusOne>();
        loaded.Embed(a).Should().Equal(model.Embed(a), "the saved weights replace the factory's fresh ones");
        loaded.Compare(a, b).Should().Be(model.Compare(a, b));

        // The preprocessing is applied: the embedding is the network's output on x² − 1, computed here by hand.
        using var raw = tensor(a).reshape(1, 4);
        using var prepared = raw.square() - 1;
        using var noGrad = no_grad();
        Tensors.Values(loaded.Network.Module.call(prepared)).Should().Equal(loaded.Embed(a));
    }

    [Fact]
    public void A_factory_must_build_a_network_distance_or_preprocessing()
    {
        var act = () => new ModelComponents().Add(() => "not a part");

        act.Should().Throw<ArgumentException>().WithMessage("*System.String*IEmbeddingNetwork*");
    }

    [Fact]
    public void The_input_scaling_and_class_names_of_the_training_data_are_saved_so_raw_inputs_embed_as_in_training()
    {
        using var folder = new TempFolder();
        var rows = new[] { new[] { 0f, 255f, 128f, 64f }, new[] { 255f, 0f, 10f, 200f } };
        using var inputs = new MetricLearning.Data.InputSet(tensor(new byte[] { 0, 255, 128, 64, 255, 0, 10, 200 }).reshape(2, 4), 1 / 255f);
        using var data = new MetricLearning.Data.LabelledData(inputs, new[] { "seven", "one" });
        manual_seed(4);
        var network = new MlpEmbeddingNetwork(new MlpOptions { InputSize = 4, LayerSizes = new[] { 6, 3 } });
        using var model = new TrainedModel(new SiameseNetwork(network), 0.5, data);
        model.Save(folder.Path);

        using var loaded = TrainedModel.Load(folder.Path);

        loaded.ClassNames.Should().Equal("one", "seven");
        loaded.InputShape.Should().Equal(4L);
        loaded.Preprocessing.Should().BeOfType<MetricLearning.Data.InputScaling>().Which.Scale.Should().Be(1 / 255f);
        using var gathered = inputs.Gather(tensor(new long[] { 0, 1 }));
        using var noGrad = no_grad();
        network.eval();
        var trainingView = Tensors.Values(network.call(gathered));
        loaded.Embed(rows).SelectMany(row => row).Should().Equal(trainingView, "a raw row embeds exactly as its gathered, scaled training batch");
    }

    [Fact]
    public void A_description_missing_its_threshold_or_an_input_shape_the_network_cannot_read_is_refused()
    {
        using var folder = new TempFolder();
        using (var model = Model(8, new EuclideanDistance()))
            model.Save(folder.Path);
        string description = Path.Combine(folder.Path, "model.json");
        string original = File.ReadAllText(description);

        var load = () => TrainedModel.Load(folder.Path);
        original.Should().Contain("\"InputShape\": [\n    4\n  ]", "the test edits that field");

        File.WriteAllText(description, System.Text.RegularExpressions.Regex.Replace(original, "\"Threshold\": [^,]*,", ""));
        load.Should().Throw<InvalidDataException>().WithMessage("*not a model description*Threshold*");

        File.WriteAllText(description, original.Replace("\"InputShape\": [\n    4\n  ]", "\"InputShape\": [\n    5\n  ]"));
        load.Should().Throw<InvalidDataException>().WithMessage("*holds 5 values*network reads 4*");
    }

    [Fact]
    public void A_disposed_model_says_so()
    {
        var model = Model(9, new EuclideanDistance());
        model.Dispose();

        var act = () => model.Embed(new[] { 1f, 2f, 3f, 4f });

        act.Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void Verify_says_no_to_a_pair_beyond_the_threshold()
    {
        using var model = Model(5, new EuclideanDistance(), threshold: 1e-3);
        var a = new[] { 0f, 0f, 0f, 0f };
        var b = new[] { 5f, -5f, 5f, -5f };
        double distance = model.Compare(a, b);

        distance.Should().BeGreaterThan(1e-3, "different inputs of this network land apart");
        model.Verify(a, b).Should().BeFalse();
        model.Verify(a, a).Should().BeTrue("an input is at distance 0 (the floor) from itself");
    }

    [Fact]
    public void Plain_inputs_of_the_wrong_length_or_not_finite_are_refused_naming_the_shape()
    {
        using var model = Model(6, new EuclideanDistance());

        var tooShort = () => model.Embed(new[] { 1f, 2f });
        var notFinite = () => model.Embed(new[] { 1f, float.NaN, 0f, 0f });

        tooShort.Should().Throw<ArgumentException>().WithMessage("*2 values*shape [4]*");
        notFinite.Should().Throw<ArgumentException>().WithMessage("*NaN*position 1*");
    }

    [Fact]
    public void Concurrent_calls_give_exactly_the_sequential_results()
    {
        var random = new Random(7);
        var inputs = Enumerable.Range(0, 64).Select(_ => Enumerable.Range(0, 4).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
        double median;
        using (var probe = Model(7, new EuclideanDistance()))
        {
            var sorted = inputs.Select((input, i) => probe.Compare(input, inputs[(i + 1) % inputs.Length])).Order().ToArray();
            // Half-way between the two middle distances, so that no pair sits on the threshold, where a last-bit
            // difference in the arithmetic (vectorised sums depend on memory alignment) would decide the answer.
            median = (sorted[inputs.Length / 2 - 1] + sorted[inputs.Length / 2]) / 2;
        }

        // The same weights (same seed), with the threshold at the median distance: about half the answers are yes.
        using var model = Model(7, new EuclideanDistance(), threshold: median);
        var sequentialEmbeddings = inputs.Select(input => model.Embed(input)).ToArray();
        var sequentialVerdicts = inputs.Select((input, i) => model.Verify(input, inputs[(i + 1) % inputs.Length])).ToArray();

        var parallelEmbeddings = new float[inputs.Length][];
        var parallelVerdicts = new bool[inputs.Length];
        System.Threading.Tasks.Parallel.For(0, inputs.Length * 4, new System.Threading.Tasks.ParallelOptions { MaxDegreeOfParallelism = 8 }, k =>
        {
            int i = k % inputs.Length;
            var embedding = model.Embed(inputs[i]);
            bool verdict = model.Verify(inputs[i], inputs[(i + 1) % inputs.Length]);
            lock (parallelEmbeddings)
            {
                parallelEmbeddings[i] = embedding;
                parallelVerdicts[i] = verdict;
            }
        });

        // Separate passes may round the last bit differently (MKL's alignment-dependent kernels, see docs/how-to/serve.md), so the
        // embeddings agree to 1e-6; a call that mixed up callers' inputs would be off by far more.
        for (int i = 0; i < inputs.Length; i++)
            parallelEmbeddings[i].Should().Equal(sequentialEmbeddings[i], (a, b) => Math.Abs(a - b) <= 1e-6f);
        parallelVerdicts.Should().Equal(sequentialVerdicts);
        sequentialVerdicts.Should().Contain(true).And.Contain(false, "the check covers both answers");
    }

    [Fact]
    public void A_missing_folder_is_named()
    {
        var act = () => TrainedModel.Load("/no/such/model");

        act.Should().Throw<FileNotFoundException>().WithMessage("*/no/such/model*");
    }

    private sealed class CustomDistance : IDistance
    {
        public Tensor Compute(Tensor first, Tensor second) => (first - second).abs().sum(1);

        public Tensor ComputeMatrix(Tensor queries, Tensor references) => cdist(queries, references, 1);
    }
}
