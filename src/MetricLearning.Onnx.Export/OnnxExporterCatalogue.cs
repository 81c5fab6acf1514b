using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;

namespace MetricLearning.Onnx.Export;

/// <summary>
/// Finds the exporter of a part: those the caller registered, then those the part's assembly declares, then this
/// package's (found by scanning, once per assembly), as saved parts' formats are found.
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal static class OnnxExporterCatalogue
{
    private static readonly ConcurrentDictionary<Assembly, IReadOnlyList<IOnnxExporter>> Scanned = new();

    /// <summary>The exporter of <paramref name="part"/>.</summary>
    /// <exception cref="NotSupportedException">No exporter writes its type; the message names it and says how to add one.</exception>
    internal static IOnnxExporter Find(object part, string role, IEnumerable<IOnnxExporter> registered)
    {
        var type = part.GetType();
        var exporter = registered.FirstOrDefault(e => (e ?? throw new ArgumentException("OnnxExportOptions.Exporters holds null.", nameof(registered))).PartType == type)
            ?? Exporters(type.Assembly).FirstOrDefault(e => e.PartType == type)
            ?? Exporters(typeof(OnnxExporterCatalogue).Assembly).FirstOrDefault(e => e.PartType == type);
        return exporter ?? throw new NotSupportedException(
            $"The model's {role} is a {type.FullName}, which no ONNX exporter writes. Declare an OnnxExporter<{type.Name}> in its assembly, " +
            "or pass one in OnnxExportOptions.Exporters.");
    }

    /// <summary>The exporters an assembly declares: every concrete <see cref="IOnnxExporter"/> with a parameterless constructor.</summary>
    /// <exception cref="InvalidOperationException">Two exporters of the assembly claim one part type.</exception>
    internal static IReadOnlyList<IOnnxExporter> Exporters(Assembly assembly) => Scanned.GetOrAdd(assembly, static assembly =>
    {
        Type?[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            types = ex.Types;
        }

        var exporters = types
            .Where(t => t is { IsAbstract: false, IsInterface: false, ContainsGenericParameters: false } && typeof(IOnnxExporter).IsAssignableFrom(t)
                && t.GetConstructor(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance, Type.EmptyTypes) is not null)
            .Select(t => (IOnnxExporter)Activator.CreateInstance(t!, nonPublic: true)!)
            .ToList();
        foreach (var clash in exporters.GroupBy(e => e.PartType).Where(g => g.Count() > 1))
            throw new InvalidOperationException($"The ONNX exporters {string.Join(" and ", clash.Select(e => e.GetType().FullName))} in {assembly.GetName().Name} both write {clash.Key.FullName}.");
        return exporters;
    });
}
