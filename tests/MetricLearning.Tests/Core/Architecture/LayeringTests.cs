using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Mono.Cecil;
using Mono.Cecil.Cil;
using Xunit;

namespace MetricLearning.Tests.Core.Architecture;

/// <summary>
/// The layering rule of docs/architecture.md, checked on what the compiled library really uses (its IL: base types,
/// fields, signatures, and every type, method and field a method body touches), not on its using lines.
/// </summary>
public sealed class LayeringTests
{
    /// <summary>
    /// Each namespace of the library with its layer. A namespace may use its own types and those of lower layers;
    /// two namespaces of one layer (losses and miners, say) may not use each other, so that what both need lives
    /// below both.
    /// </summary>
    internal static readonly IReadOnlyDictionary<string, int> Layers = new Dictionary<string, int>
    {
        ["MetricLearning"] = 0,                        // seams and the value types they mention
        ["MetricLearning.Runtime"] = 0,                // loading torch, devices, threads
        ["MetricLearning.Distances"] = 1,
        ["MetricLearning.Reducers"] = 1,               // turn a loss's terms into a number
        ["MetricLearning.Regularizers"] = 2,           // penalties on embeddings or class vectors (use reducers)
        ["MetricLearning.Losses"] = 2,
        ["MetricLearning.Mining"] = 2,
        ["MetricLearning.Networks"] = 3,
        ["MetricLearning.Components"] = 3,             // losses, miners and reducers by name
        ["MetricLearning.Data"] = 4,                   // data sources and samplers
        ["MetricLearning.Models"] = 5,
        ["MetricLearning.Indexing"] = 6,
        ["MetricLearning.Evaluation"] = 7,
        ["MetricLearning.Training"] = 8,
        ["MetricLearning.DependencyInjection"] = 9,    // hosting
        ["Microsoft.Extensions.DependencyInjection"] = 10, // AddMetricLearning, the entry point to hosting
    };

    /// <summary>The library's assemblies that follow the layers: the core and the integration packages that add to its namespaces.</summary>
    internal static readonly string[] LibraryAssemblies =
    {
        typeof(IDistance).Assembly.Location,
        typeof(MetricLearning.Data.ImageFolder).Assembly.Location,
        typeof(MetricLearning.Indexing.ApproximateIndex).Assembly.Location,
        typeof(MetricLearning.Networks.ResNetEmbeddingNetwork).Assembly.Location,
    };

    [Fact]
    public void Every_namespace_uses_only_lower_layers()
    {
        var violations = LibraryAssemblies.SelectMany(Dependencies)
            .Where(d => d.Internal && !Allowed(d.From, d.To))
            .Select(d => $"{d.FromType} ({d.From}) uses {d.ToType} ({d.To})")
            .Distinct()
            .ToList();

        violations.Should().BeEmpty("a namespace may use only its own layer's types and lower layers' (see LayeringTests.Layers)");
    }

    [Fact]
    public void Every_namespace_of_the_library_has_a_layer()
    {
        var namespaces = LibraryAssemblies.SelectMany(path =>
        {
            using var assembly = AssemblyDefinition.ReadAssembly(path);
            return assembly.MainModule.Types.Select(t => t.Namespace).Where(n => n.Length > 0).Distinct().ToList();
        });
        namespaces.Should().OnlyContain(n => Layers.ContainsKey(n), "a new namespace must be placed in the layer order");
    }

    [Fact]
    public void The_check_sees_a_use_of_a_higher_layer()
    {
        // This test assembly's own types use Training from a test namespace; map a fake layer to prove the scan
        // finds method-body uses, not only signatures.
        var found = Dependencies(typeof(LayeringTests).Assembly.Location)
            .Any(d => d.FromType.EndsWith(nameof(LayeringTests), StringComparison.Ordinal) && d.ToType == typeof(IDistance).FullName);
        found.Should().BeTrue();
        Allowed("MetricLearning.Losses", "MetricLearning.Training").Should().BeFalse();
        Allowed("MetricLearning.Losses", "MetricLearning.Mining").Should().BeFalse();
        Allowed("MetricLearning.Training", "MetricLearning.Losses").Should().BeTrue();
    }

    private static bool Allowed(string from, string to)
    {
        if (from == to || !Layers.TryGetValue(to, out int target))
            return true; // the same namespace
        return Layers.TryGetValue(from, out int source) && target < source;
    }

    /// <summary>A use of <c>ToType</c> by <c>FromType</c>; <c>Internal</c> when both are the library's (its core or an integration package).</summary>
    internal sealed record Dependency(string FromType, string From, string ToType, string To, bool Internal);

    /// <summary>Every (type, referenced type) pair in an assembly, namespaces taken from the outermost declaring type.</summary>
    internal static List<Dependency> Dependencies(string path)
    {
        using var assembly = AssemblyDefinition.ReadAssembly(path);
        var result = new List<Dependency>();
        foreach (var type in assembly.MainModule.GetTypes())
        {
            var owner = Outermost(type);
            void Add(TypeReference? referenced)
            {
                foreach (var t in Expand(referenced))
                {
                    var target = Outermost(t);
                    bool internalUse = target.Scope.MetadataScopeType == MetadataScopeType.ModuleDefinition
                        || (target.Scope is AssemblyNameReference name && (name.Name == "MetricLearning" || name.Name.StartsWith("MetricLearning.", StringComparison.Ordinal)));
                    result.Add(new Dependency(owner.FullName, owner.Namespace, target.FullName, target.Namespace, internalUse));
                }
            }

            Add(type.BaseType);
            foreach (var i in type.Interfaces) Add(i.InterfaceType);
            foreach (var f in type.Fields) Add(f.FieldType);
            foreach (var p in type.Properties) Add(p.PropertyType);
            foreach (var m in type.Methods)
            {
                Add(m.ReturnType);
                foreach (var p in m.Parameters) Add(p.ParameterType);
                if (!m.HasBody) continue;
                foreach (var v in m.Body.Variables) Add(v.VariableType);
                foreach (var instruction in m.Body.Instructions)
                {
                    switch (instruction.Operand)
                    {
                        case TypeReference t: Add(t); break;
                        case MethodReference r:
                            Add(r.DeclaringType); Add(r.ReturnType);
                            foreach (var p in r.Parameters) Add(p.ParameterType);
                            if (r is GenericInstanceMethod g) foreach (var a in g.GenericArguments) Add(a);
                            break;
                        case FieldReference f: Add(f.DeclaringType); Add(f.FieldType); break;
                    }
                }
            }
        }

        return result;
    }

    private static IEnumerable<TypeReference> Expand(TypeReference? type)
    {
        if (type is null || type is GenericParameter) yield break;
        if (type is TypeSpecification spec)
        {
            foreach (var inner in Expand(spec.ElementType)) yield return inner;
            if (type is GenericInstanceType generic)
                foreach (var argument in generic.GenericArguments)
                    foreach (var inner in Expand(argument)) yield return inner;
            yield break;
        }

        yield return type;
    }

    private static TypeReference Outermost(TypeReference type)
    {
        while (type.DeclaringType is not null) type = type.DeclaringType;
        return type;
    }
}
