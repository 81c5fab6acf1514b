using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FluentAssertions;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Networks;

public sealed class PyTorchWeightsTests
{
    private static ConvEmbeddingNetwork Cnn(int seed, int[]? channels = null, int embedding = 8)
    {
        manual_seed(seed);
        return new ConvEmbeddingNetwork(new ConvOptions { Channels = channels ?? new[] { 4, 8 }, EmbeddingSize = embedding });
    }

    private static Dictionary<string, float[]> Values(nn.Module module) =>
        module.state_dict().ToDictionary(entry => entry.Key, entry => entry.Value.to_type(ScalarType.Float32).data<float>().ToArray());

    [Theory]
    [InlineData("weights.pt")]
    [InlineData("weights.safetensors")]
    public void Saved_weights_load_into_a_differently_seeded_network_and_give_its_outputs(string name)
    {
        using var folder = new TempFolder();
        using var source = Cnn(1);
        using var target = Cnn(2);
        using (no_grad())
        {
            // Statistics away from 0 and 1, so that buffers are checked as well as parameters.
            foreach (var (key, tensor) in source.state_dict().Where(entry => entry.Key.Contains("running")))
                tensor.uniform_(0.5, 1.5);
        }

        source.eval();
        target.eval();
        using var input = randn(3, 1, 8, 8);
        using var expected = source.forward(input);
        using var before = target.forward(input);
        before.allclose(expected).Should().BeFalse("the two networks start different");

        PyTorchWeights.Save(source, folder.File(name));
        PyTorchWeights.Load(target, folder.File(name));

        using var actual = target.forward(input);
        Tensors.Identical(actual, expected).Should().BeTrue();
        Values(target).Should().BeEquivalentTo(Values(source));
        Directory.GetFiles(folder.Path).Should().ContainSingle("the save wrote its temporary file and renamed it");
    }

    [Fact]
    public void A_file_with_fewer_layers_is_refused_naming_the_missing_tensors_and_loads_nothing()
    {
        using var folder = new TempFolder();
        using var smaller = Cnn(1, new[] { 4, 8 });
        using var larger = Cnn(2, new[] { 4, 8, 16 });
        PyTorchWeights.Save(smaller, folder.File("w.pt"));
        var before = Values(larger);

        var act = () => PyTorchWeights.Load(larger, folder.File("w.pt"));

        var thrown = act.Should().Throw<WeightsMismatchException>().Which;
        thrown.Missing.Should().Contain(new[] { "layers.conv3.weight", "layers.norm3.running_mean" });
        thrown.Mismatched.Should().Contain(line => line.StartsWith("layers.embed.weight is [8, 8] in the file and [8, 16] in the network"));
        thrown.Message.Should().Contain(folder.File("w.pt")).And.Contain("nothing was loaded");
        Values(larger).Should().BeEquivalentTo(before, "a refused file changes nothing, not even the tensors that did match");
    }

    [Fact]
    public void A_file_with_more_layers_is_refused_naming_the_unexpected_tensors()
    {
        using var folder = new TempFolder();
        using var larger = Cnn(1, new[] { 4, 8, 16 });
        using var smaller = Cnn(2, new[] { 4, 8 });
        PyTorchWeights.Save(larger, folder.File("w.safetensors"));

        var act = () => PyTorchWeights.Load(smaller, folder.File("w.safetensors"));

        act.Should().Throw<WeightsMismatchException>().Which.Unexpected.Should().Contain("layers.conv3.bias");
    }

    [Fact]
    public void A_key_prefix_maps_a_wrapped_models_names_and_ignored_keys_are_left_out_both_ways()
    {
        using var folder = new TempFolder();
        using var source = Cnn(1);
        var prefixed = new PyTorchWeightsOptions { KeyPrefix = "backbone." };
        prefixed.IgnoredKeys.Add("backbone.layers.embed.");
        PyTorchWeights.Save(source, folder.File("w.pt"), prefixed);

        using var stored = new DisposingDictionary(PyTorchWeights.ReadTensors(folder.File("w.pt")));
        stored.Keys.Should().Contain("backbone.layers.conv1.weight").And.NotContain(key => key.Contains("embed"));

        using var target = Cnn(2);
        var plain = () => PyTorchWeights.Load(target, folder.File("w.pt"));
        plain.Should().Throw<WeightsMismatchException>().Which.Unexpected.Should().Contain("backbone.layers.conv1.weight");

        var embedBefore = target.state_dict()["layers.embed.weight"].clone();
        PyTorchWeights.Load(target, folder.File("w.pt"), prefixed);
        Tensors.Identical(target.state_dict()["layers.conv1.weight"], source.state_dict()["layers.conv1.weight"]).Should().BeTrue();
        Tensors.Identical(target.state_dict()["layers.embed.weight"], embedBefore).Should().BeTrue("an ignored tensor keeps the network's own values");
    }

    [Fact]
    public void Files_without_batch_norm_counters_load_as_PyTorch_loads_them_keeping_the_networks_own()
    {
        // Files saved before PyTorch 0.4.1 (torchvision's original ResNet weights) have no num_batches_tracked.
        using var folder = new TempFolder();
        using var source = Cnn(1);
        PyTorchWeights.Save(source, folder.File("full.pt"));
        using (var all = new DisposingDictionary(PyTorchWeights.ReadTensors(folder.File("full.pt"))))
        {
            var kept = all.Keys.Where(key => !key.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToDictionary(key => key, key => all[key]);
            kept.Count.Should().BeLessThan(all.Keys.Count());
            PyTorchWeights.WriteTensors(folder.File("old.pt"), kept);
        }

        using var target = Cnn(2);
        PyTorchWeights.Load(target, folder.File("old.pt"));

        Tensors.Identical(target.state_dict()["layers.conv1.weight"], source.state_dict()["layers.conv1.weight"]).Should().BeTrue();
        target.state_dict()["layers.norm1.num_batches_tracked"].item<long>().Should().Be(0, "the network keeps its own counter");
    }

    [Fact]
    public void Files_that_are_not_weights_are_refused_naming_them()
    {
        using var folder = new TempFolder();
        using var network = Cnn(1);
        File.WriteAllText(folder.File("notes.pt"), "not a state_dict");
        var text = () => PyTorchWeights.Load(network, folder.File("notes.pt"));
        text.Should().Throw<InvalidDataException>().WithMessage($"*'{folder.File("notes.pt")}' could not be read as a PyTorch state_dict*");

        var header = new byte[16];
        BitConverter.GetBytes(1UL << 40).CopyTo(header, 0);
        File.WriteAllBytes(folder.File("huge.safetensors"), header);
        var huge = () => PyTorchWeights.Load(network, folder.File("huge.safetensors"));
        huge.Should().Throw<InvalidDataException>().WithMessage("*header claims 1,099,511,627,776 bytes*");

        var missing = () => PyTorchWeights.Load(network, folder.File("absent.pt"));
        missing.Should().Throw<FileNotFoundException>().WithMessage($"*{folder.File("absent.pt")}*");
    }

    [Fact]
    public void Written_tensors_read_back_with_their_names_shapes_and_dtypes()
    {
        using var folder = new TempFolder();
        using var floats = randn(3, 4);
        using var longs = arange(5, dtype: ScalarType.Int64);
        foreach (string name in new[] { "t.pt", "t.safetensors" })
        {
            PyTorchWeights.WriteTensors(folder.File(name), new Dictionary<string, Tensor> { ["floats"] = floats, ["longs"] = longs });
            using var read = new DisposingDictionary(PyTorchWeights.ReadTensors(folder.File(name)));
            Tensors.Identical(read["floats"], floats).Should().BeTrue(name);
            read["longs"].dtype.Should().Be(ScalarType.Int64);
            Tensors.Identical(read["longs"], longs).Should().BeTrue(name);
        }
    }

    [Theory]
    [InlineData("w.pt")]
    [InlineData("w.safetensors")]
    public void Damaged_files_load_whole_or_are_refused_never_crash(string name)
    {
        using var folder = new TempFolder();
        using var source = Cnn(1, new[] { 2 }, embedding: 2);
        PyTorchWeights.Save(source, folder.File(name));
        byte[] valid = File.ReadAllBytes(folder.File(name));
        int refused = 0;
        foreach (var (what, bytes) in Mutations.Of(valid, count: 240, seed: 7, headerBytes: 256))
        {
            File.WriteAllBytes(folder.File(name), bytes);
            using var target = Cnn(2, new[] { 2 }, embedding: 2);
            try
            {
                PyTorchWeights.Load(target, folder.File(name));
            }
            catch (Exception exception) when (exception is InvalidDataException or WeightsMismatchException)
            {
                exception.Message.Should().Contain(folder.File(name), what);
                refused++;
            }
        }

        refused.Should().BeGreaterThan(100, "most damage is caught");
    }

    private sealed class DisposingDictionary(Dictionary<string, Tensor> tensors) : IDisposable
    {
        public IEnumerable<string> Keys => tensors.Keys;

        public Tensor this[string key] => tensors[key];

        public void Dispose()
        {
            foreach (var tensor in tensors.Values)
                tensor.Dispose();
        }
    }
}
