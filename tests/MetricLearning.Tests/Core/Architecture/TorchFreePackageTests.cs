using System;
using System.Linq;
using FluentAssertions;
using Mono.Cecil;
using Xunit;

namespace MetricLearning.Tests.Core.Architecture;

/// <summary>The packages a search service uses must not bring TorchSharp, directly or through the core.</summary>
public sealed class TorchFreePackageTests
{
    public static TheoryData<Type> TorchFreeAssemblies => new()
    {
        typeof(MetricLearning.Indexing.ExactIndex),
        typeof(MetricLearning.Indexing.ApproximateIndex),
        typeof(MetricLearning.Onnx.OnnxEmbeddingModel),
        typeof(MetricLearning.VectorData.FolderVectorStore),
    };

    [Theory]
    [MemberData(nameof(TorchFreeAssemblies))]
    public void References_neither_TorchSharp_nor_the_core(Type type)
    {
        using var assembly = AssemblyDefinition.ReadAssembly(type.Assembly.Location);

        var references = assembly.MainModule.AssemblyReferences.Select(reference => reference.Name).ToArray();

        references.Should().NotContain(name => name.StartsWith("TorchSharp", StringComparison.Ordinal) || name == "MetricLearning" || name == "TorchVision",
            $"{assembly.Name.Name} serves without libtorch");
    }

    [Fact]
    public void The_check_sees_a_reference_to_the_core()
    {
        using var assembly = AssemblyDefinition.ReadAssembly(typeof(MetricLearning.Extensions.AI.TrainedModelEmbeddingGenerator).Assembly.Location);

        assembly.MainModule.AssemblyReferences.Select(reference => reference.Name).Should().Contain("MetricLearning");
    }
}
