using System.Collections.Generic;

namespace MetricLearning.Onnx.Export;

/// <summary>Settings of an ONNX export.</summary>
public sealed class OnnxExportOptions
{
    /// <summary>Exporters to use before those found in the parts' assemblies and this package (for parts whose assembly you cannot change).</summary>
    public IList<IOnnxExporter> Exporters { get; } = new List<IOnnxExporter>();

    /// <summary>The graph's name, as ONNX tools show it. Default (and when blank) <c>metriclearning</c>.</summary>
    public string GraphName { get; set; } = "metriclearning";
}
