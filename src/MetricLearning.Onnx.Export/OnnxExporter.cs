using System;

namespace MetricLearning.Onnx.Export;

/// <summary>The base of an exporter for parts of type <typeparamref name="TPart"/>; see <see cref="IOnnxExporter"/> for how exporters are found.</summary>
/// <typeparam name="TPart">The exact type of part it writes.</typeparam>
public abstract class OnnxExporter<TPart> : IOnnxExporter
    where TPart : class
{
    /// <inheritdoc />
    public Type PartType => typeof(TPart);

    /// <inheritdoc />
    string IOnnxExporter.Export(object part, OnnxGraphBuilder graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentException.ThrowIfNullOrWhiteSpace(input);
        return part is TPart typed
            ? Export(typed, graph, input)
            : throw new ArgumentException($"The exporter {GetType().FullName} writes {typeof(TPart).FullName}, not {part?.GetType().FullName ?? "null"}.", nameof(part));
    }

    /// <summary>Writes the part's computation, in evaluation mode, from <paramref name="input"/>.</summary>
    /// <param name="part">The part.</param>
    /// <param name="graph">Where to write.</param>
    /// <param name="input">The name of the part's input in the graph.</param>
    /// <returns>The name of the part's output.</returns>
    protected abstract string Export(TPart part, OnnxGraphBuilder graph, string input);
}
