using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FluentAssertions;
using MetricLearning.Networks;
using MetricLearning.Tests.TestSupport;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Networks;

/// <summary>
/// Weights move between PyTorch and this library both ways and give the same outputs to 1e-4: PyTorch itself
/// (tests/pytorch-interop/interop.py, Debian's torch 1.13 and torchvision 0.14) writes a seeded torchvision ResNet-18
/// and the small CNN with their outputs for a fixed input, which load here; and it loads the files written here.
/// </summary>
public sealed class PyTorchInteropTests : IClassFixture<PyTorchInteropTests.PyTorchFiles>
{
    private const double Tolerance = 1e-4;
    private readonly PyTorchFiles files;
    private readonly ITestOutputHelper output;

    public PyTorchInteropTests(PyTorchFiles files, ITestOutputHelper output)
    {
        this.files = files;
        this.output = output;
    }

    /// <summary>What PyTorch wrote, made once for the class (a 45 MB ResNet-18 twice, so not committed).</summary>
    public sealed class PyTorchFiles : IDisposable
    {
        private readonly TempFolder folder = new();
        private string? made;

        public string Folder => folder.Path;

        public string File(string name) => folder.File(name);

        /// <summary>Runs the script's "make" once; later calls reuse its files.</summary>
        public void Make()
        {
            made ??= Script.Run("make", Folder);
        }

        public void Dispose() => folder.Dispose();
    }

    [PyTorchFact]
    public void A_torchvision_ResNet18_from_PyTorch_gives_PyTorchs_logits_here_from_both_formats()
    {
        files.Make();
        using var io = Tensors(files.File("resnet18_io.pt"));
        foreach (string weights in new[] { "resnet18.pt", "resnet18.safetensors" })
        {
            using var resnet = torchvision.models.resnet18();
            PyTorchWeights.Load(resnet, files.File(weights));
            resnet.eval();
            using var _ = no_grad();
            using var logits = resnet.forward(io["input"]);
            MaxDifference(logits, io["logits"]).Should().BeLessThan(Tolerance, $"{weights} is PyTorch's ResNet-18");
        }
    }

    [PyTorchFact]
    public void A_pretrained_PyTorch_ResNet18_loads_as_the_trunk_of_the_embedding_network()
    {
        files.Make();
        using var io = Tensors(files.File("resnet18_io.pt"));
        using var network = new ResNetEmbeddingNetwork();
        network.LoadPretrainedTrunk(files.File("resnet18.pt"));
        network.eval();
        using var _ = no_grad();
        using var features = network.Trunk.forward(io["input"]);
        MaxDifference(features, io["features"]).Should().BeLessThan(Tolerance);
    }

    [PyTorchFact]
    public void The_small_CNN_from_PyTorch_gives_PyTorchs_outputs_here_from_both_formats()
    {
        files.Make();
        using var io = Tensors(files.File("cnn_io.pt"));
        foreach (string weights in new[] { "cnn.pt", "cnn.safetensors" })
        {
            using var network = new ConvEmbeddingNetwork();
            PyTorchWeights.Load(network, files.File(weights));
            network.eval();
            using var _ = no_grad();
            using var output = network.forward(io["input"]);
            MaxDifference(output, io["output"]).Should().BeLessThan(Tolerance, $"{weights} is PyTorch's CNN");
        }
    }

    [PyTorchFact]
    public void PyTorch_loads_the_CNN_and_the_ResNet_saved_here_and_reproduces_their_outputs()
    {
        using var folder = new TempFolder();
        manual_seed(11);
        using (var cnn = new ConvEmbeddingNetwork())
        {
            RandomiseBatchNorm(cnn);
            cnn.eval();
            using var input = randn(3, 1, 28, 28);
            using var output = NoGrad(() => cnn.forward(input));
            PyTorchWeights.Save(cnn, folder.File("ours_cnn.pt"));
            PyTorchWeights.Save(cnn, folder.File("ours_cnn.safetensors"));
            PyTorchWeights.WriteTensors(folder.File("ours_cnn_io.pt"), new Dictionary<string, Tensor> { ["input"] = input, ["output"] = output });
        }

        using (var resnet = new ResNetEmbeddingNetwork())
        {
            RandomiseBatchNorm(resnet);
            resnet.eval();
            using var input = randn(2, 3, 64, 64);
            using var output = NoGrad(() => resnet.forward(input));
            PyTorchWeights.Save(resnet, folder.File("ours_resnet.pt"));
            PyTorchWeights.Save(resnet, folder.File("ours_resnet.safetensors"));
            PyTorchWeights.WriteTensors(folder.File("ours_resnet_io.pt"), new Dictionary<string, Tensor> { ["input"] = input, ["output"] = output });
        }

        string report = Script.Run("check", folder.Path);
        output.WriteLine(report);
        report.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(line => line.StartsWith("OK ", StringComparison.Ordinal))
            .Should().HaveCount(4, report);
    }

    [PyTorchFact]
    public void PyTorchs_check_fails_when_our_output_is_not_what_the_weights_give()
    {
        // The check above could pass by comparing nothing: here a wrong output must make PyTorch's side fail.
        using var folder = new TempFolder();
        manual_seed(12);
        using var cnn = new ConvEmbeddingNetwork();
        cnn.eval();
        using var input = randn(3, 1, 28, 28);
        using var output = NoGrad(() => cnn.forward(input));
        using var wrong = output.add(1e-3);
        PyTorchWeights.Save(cnn, folder.File("ours_cnn.pt"));
        PyTorchWeights.Save(cnn, folder.File("ours_cnn.safetensors"));
        PyTorchWeights.WriteTensors(folder.File("ours_cnn_io.pt"), new Dictionary<string, Tensor> { ["input"] = input, ["output"] = wrong });

        var act = () => Script.Run("check", folder.Path);
        act.Should().Throw<InvalidOperationException>().WithMessage("*MISMATCH ours_cnn.pt*");
    }

    private static Tensor NoGrad(Func<Tensor> compute)
    {
        using var _ = no_grad();
        return compute();
    }

    /// <summary>Moves every batch norm's statistics away from 0 and 1, so that a wrongly mapped one changes the output.</summary>
    private static void RandomiseBatchNorm(nn.Module module)
    {
        using var _ = no_grad();
        foreach (var (name, tensor) in module.state_dict())
        {
            if (name.EndsWith("running_mean", StringComparison.Ordinal))
                tensor.uniform_(-0.5, 0.5);
            else if (name.EndsWith("running_var", StringComparison.Ordinal))
                tensor.uniform_(0.5, 1.5);
        }
    }

    private double MaxDifference(Tensor actual, Tensor expected)
    {
        actual.shape.Should().Equal(expected.shape);
        using var difference = (actual - expected).abs().max();
        using var magnitude = expected.abs().max();
        output.WriteLine($"max |MetricLearning - PyTorch| = {difference.item<float>():G3} (largest value {magnitude.item<float>():G3})");
        return difference.item<float>();
    }

    private static DisposableTensors Tensors(string path) => new(PyTorchWeights.ReadTensors(path));

    private sealed class DisposableTensors(Dictionary<string, Tensor> tensors) : IDisposable
    {
        public Tensor this[string key] => tensors[key];

        public void Dispose()
        {
            foreach (var tensor in tensors.Values)
                tensor.Dispose();
        }
    }

    private static class Script
    {
        /// <summary>Runs interop.py; its output, or an exception with its output and errors if it fails.</summary>
        internal static string Run(string command, string folder)
        {
            var (exitCode, output, errors) = DebianPython.Run(new[] { "tests", "pytorch-interop", "interop.py" }, command, folder);
            if (exitCode != 0)
                throw new InvalidOperationException($"interop.py {command} failed ({exitCode}):\n{output}\n{errors}");
            return output;
        }
    }
}
