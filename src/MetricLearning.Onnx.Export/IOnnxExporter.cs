using System;

namespace MetricLearning.Onnx.Export;

/// <summary>
/// Writes one kind of model part (a network, a preprocessing) into an ONNX graph. Derive from
/// <see cref="OnnxExporter{TPart}"/> rather than implementing this directly.
/// </summary>
/// <remarks>
/// Exporters are found as saved parts' formats are: those passed in <see cref="OnnxExportOptions.Exporters"/> first,
/// then every exporter (a concrete type with a parameterless constructor, public or not) declared in the part's own
/// assembly, then the built-in ones of this package. A network of your own exports once its assembly declares one.
/// </remarks>
public interface IOnnxExporter
{
    /// <summary>The exact type of part this exporter writes.</summary>
    Type PartType { get; }

    /// <summary>Writes the part's computation, in evaluation mode, from <paramref name="input"/>.</summary>
    /// <param name="part">The part, of <see cref="PartType"/>.</param>
    /// <param name="graph">Where to write.</param>
    /// <param name="input">The name of the part's input in the graph.</param>
    /// <returns>The name of the part's output.</returns>
    string Export(object part, OnnxGraphBuilder graph, string input);
}
