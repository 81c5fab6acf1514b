using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using FluentAssertions;
using Google.Protobuf;
using MetricLearning.Onnx;
using MetricLearning.Tests.TestSupport;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace MetricLearning.Tests.Onnx;

/// <summary>The ONNX model behind Microsoft.Extensions.AI's abstraction and dependency injection, and the files it refuses.</summary>
public sealed class OnnxServingTests
{
    [Fact]
    public async Task The_registered_generator_embeds_raw_inputs_as_the_model_does()
    {
        using var folder = new TempFolder();
        using (OnnxExportTests.ExportedMlp(folder, "digits.onnx"))
        {
        }

        var services = new ServiceCollection().AddOnnxEmbeddingGenerator(folder.File("digits.onnx"), onnx => onnx.MaxBatchSize = 8);
        await using (var provider = services.BuildServiceProvider())
        {
            var generator = provider.GetRequiredService<IEmbeddingGenerator<float[], Embedding<float>>>();
            var model = provider.GetRequiredService<OnnxEmbeddingModel>();
            var inputs = OnnxExportTests.RawInputs(20, 12, 1, seed: 7);

            var embeddings = await generator.GenerateAsync(inputs);

            embeddings.Should().HaveCount(20);
            for (int i = 0; i < inputs.Length; i++)
                embeddings[i].Vector.ToArray().Should().Equal(model.Embed(inputs[i]), (a, b) => Math.Abs(a - b) <= 1e-6f);
            embeddings[0].ModelId.Should().Be("digits");
            var metadata = generator.GetService<EmbeddingGeneratorMetadata>()!;
            metadata.DefaultModelDimensions.Should().Be(6);
            metadata.ProviderName.Should().Be(OnnxEmbeddingGenerator.ProviderName);
            generator.GetService<OnnxEmbeddingModel>().Should().BeSameAs(model);
            await generator.Invoking(g => g.GenerateAsync(inputs, new EmbeddingGenerationOptions { Dimensions = 7 })).Should().ThrowAsync<ArgumentException>().WithMessage("*6 dimensions; 7*");
        }
    }

    [Fact]
    public void Registering_a_file_that_does_not_exist_fails_at_once_naming_it()
    {
        var register = () => new ServiceCollection().AddOnnxEmbeddingGenerator("no/such/model.onnx");

        register.Should().Throw<FileNotFoundException>().WithMessage("*no/such/model.onnx*");
    }

    [Fact]
    public void An_ONNX_model_MetricLearning_did_not_export_is_refused_naming_the_file()
    {
        using var folder = new TempFolder();
        // A valid ONNX model of one Neg node, without our properties.
        var model = new global::Onnx.ModelProto { IrVersion = 8, Graph = new global::Onnx.GraphProto { Name = "theirs" } };
        model.OpsetImport.Add(new global::Onnx.OperatorSetIdProto { Domain = "", Version = 17 });
        var node = new global::Onnx.NodeProto { OpType = "Neg" };
        node.Input.Add("x");
        node.Output.Add("y");
        model.Graph.Node.Add(node);
        File.WriteAllBytes(folder.File("theirs.onnx"), model.ToByteArray());

        var load = () => OnnxEmbeddingModel.Load(folder.File("theirs.onnx"));

        load.Should().Throw<InvalidDataException>().WithMessage($"*{folder.File("theirs.onnx")}*metriclearning.format*");
    }

    [Fact]
    public void Files_that_are_not_ONNX_empty_or_damaged_are_refused_naming_the_file()
    {
        using var folder = new TempFolder();
        using (OnnxExportTests.ExportedMlp(folder))
        {
        }

        byte[] valid = File.ReadAllBytes(folder.File("model.onnx"));
        string path = folder.File("bad.onnx");
        var cases = new (string What, byte[] Bytes)[]
        {
            ("empty", Array.Empty<byte>()),
            ("text", System.Text.Encoding.UTF8.GetBytes("this is not a model")),
            ("cut in half", valid[..(valid.Length / 2)]),
            ("a weight's byte flipped", Flip(valid, valid.Length / 2)),
        };
        foreach (var (what, bytes) in cases)
        {
            File.WriteAllBytes(path, bytes);
            var load = () => OnnxEmbeddingModel.Load(path);
            load.Should().Throw<InvalidDataException>(what).WithMessage($"*{path}*");
        }

        File.WriteAllBytes(path, Flip(valid, valid.Length / 2));
        var loadDamaged = () => OnnxEmbeddingModel.Load(path);
        loadDamaged.Should().Throw<InvalidDataException>().WithMessage("*damaged*");
        using var intact = OnnxEmbeddingModel.Load(folder.File("model.onnx"));
        intact.EmbeddingSize.Should().Be(6, "the undamaged file still loads");
    }

    [Fact]
    public void A_file_rewritten_with_another_operator_set_or_a_repeated_property_is_refused_as_damaged()
    {
        using var folder = new TempFolder();
        using (OnnxExportTests.ExportedMlp(folder))
        {
        }

        var original = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(folder.File("model.onnx")));
        var otherOpset = original.Clone();
        otherOpset.OpsetImport[0].Version = 16;
        var repeated = original.Clone();
        repeated.MetadataProps.Add(new global::Onnx.StringStringEntryProto { Key = "metriclearning.threshold", Value = "0.1" });
        var rewritten = original.Clone();
        rewritten.ProducerName = "someone else";
        File.WriteAllBytes(folder.File("opset.onnx"), otherOpset.ToByteArray());
        File.WriteAllBytes(folder.File("repeated.onnx"), repeated.ToByteArray());
        File.WriteAllBytes(folder.File("producer.onnx"), rewritten.ToByteArray());

        var loadOpset = () => OnnxEmbeddingModel.Load(folder.File("opset.onnx"));
        var loadRepeated = () => OnnxEmbeddingModel.Load(folder.File("repeated.onnx"));
        loadOpset.Should().Throw<InvalidDataException>().WithMessage("*opset.onnx*damaged*");
        loadRepeated.Should().Throw<InvalidDataException>().WithMessage("*repeated.onnx*metriclearning.threshold*twice*");
        using var producer = OnnxEmbeddingModel.Load(folder.File("producer.onnx"));
        producer.EmbeddingSize.Should().Be(6, "the producer's name is not part of the model, and a rewrite by our own serializer keeps the bytes checked");
    }

    [Fact]
    public void Options_out_of_range_are_refused_naming_the_setting()
    {
        new OnnxModelOptions { Threads = -1 }.Invoking(o => o.Validate()).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Threads*");
        new OnnxModelOptions { MaxBatchSize = 0 }.Invoking(o => o.Validate()).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*MaxBatchSize*");
        new OnnxModelOptions { MaxWait = TimeSpan.FromMinutes(1) }.Invoking(o => o.Validate()).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*MaxWait*");
        new OnnxModelOptions().Invoking(o => o.Validate()).Should().NotThrow();
    }

    private static byte[] Flip(byte[] valid, int at)
    {
        var bytes = (byte[])valid.Clone();
        bytes[at] ^= 0x10;
        return bytes;
    }
}
