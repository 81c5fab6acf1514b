using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using Google.Protobuf;
using MetricLearning.Models;
using Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MetricLearning.Onnx.Export;

/// <summary>
/// What an <see cref="OnnxExporter{TPart}"/> writes its part into: constants (the weights) and nodes of ONNX opset
/// <see cref="Opset"/>, with the common TorchSharp layers (<see cref="Layer"/>) written for it.
/// </summary>
/// <remarks>
/// Every method returns the name of the value it adds, unique in the graph (a suffix is added when a name is taken),
/// to pass as the input of the next. Constants are copied as float32 from the tensors given, whatever their device.
/// Not thread-safe: one export at a time.
/// </remarks>
public sealed class OnnxGraphBuilder
{
    /// <summary>The ONNX operator set the graph uses (Debian's <c>python3-onnx</c> 1.12 checks up to 17).</summary>
    public const int Opset = 17;

    private readonly GraphProto _graph;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    internal OnnxGraphBuilder(GraphProto graph, IReadOnlyList<long> inputShape, IEnumerable<string> reserved)
    {
        _graph = graph;
        InputShape = inputShape.ToArray();
        foreach (string name in reserved)
            _names.Add(name);
    }

    /// <summary>The shape of one raw input of the model (without the batch dimension).</summary>
    public IReadOnlyList<long> InputShape { get; }

    /// <summary>Adds a float32 constant (a weight) holding <paramref name="value"/>'s values.</summary>
    /// <param name="value">The values, of any floating-point dtype and device; copied.</param>
    /// <param name="name">The name to give it (made unique).</param>
    /// <returns>The constant's name.</returns>
    /// <exception cref="ArgumentException">The tensor is not floating-point or holds a value that is not finite.</exception>
    public string Constant(Tensor value, string name)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!value.is_floating_point())
            throw new ArgumentException($"The constant '{name}' must be floating-point; got {value.dtype}.", nameof(value));
        using var scope = NewDisposeScope();
        var floats = value.detach().to(CPU).to_type(ScalarType.Float32).contiguous();
        if (!floats.isfinite().all().item<bool>())
            throw new ArgumentException($"The constant '{name}' holds a value that is not finite (NaN or infinity); an exported model would give NaN embeddings.", nameof(value));
        return AddConstant(name, floats.shape, TensorProto.Types.DataType.Float, floats.bytes);
    }

    /// <summary>Adds a float32 constant from plain values.</summary>
    /// <param name="values">The values, row-major in <paramref name="shape"/>.</param>
    /// <param name="shape">Its shape (empty for a scalar).</param>
    /// <param name="name">The name to give it (made unique).</param>
    /// <returns>The constant's name.</returns>
    /// <exception cref="ArgumentException">The values do not fill the shape.</exception>
    public string Constant(float[] values, long[] shape, string name)
    {
        ArgumentNullException.ThrowIfNull(values);
        CheckShape(values.Length, shape, name);
        return AddConstant(name, shape, TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(values.AsSpan()));
    }

    /// <summary>Adds an int64 constant from plain values (the shape of a <c>Reshape</c>, the axes of a reduction).</summary>
    /// <param name="values">The values, row-major in <paramref name="shape"/>.</param>
    /// <param name="shape">Its shape (empty for a scalar).</param>
    /// <param name="name">The name to give it (made unique).</param>
    /// <returns>The constant's name.</returns>
    /// <exception cref="ArgumentException">The values do not fill the shape.</exception>
    public string Constant(long[] values, long[] shape, string name)
    {
        ArgumentNullException.ThrowIfNull(values);
        CheckShape(values.Length, shape, name);
        return AddConstant(name, shape, TensorProto.Types.DataType.Int64, MemoryMarshal.AsBytes(values.AsSpan()));
    }

    /// <summary>Adds a node with one output.</summary>
    /// <param name="operatorType">The ONNX operator (<c>Gemm</c>, <c>Conv</c>, ...), of the default domain at <see cref="Opset"/>.</param>
    /// <param name="inputs">The names of its inputs, in the operator's order ("" for an optional input left out).</param>
    /// <param name="name">The name to give its output (made unique); the node takes the same name.</param>
    /// <param name="attributes">Its attributes.</param>
    /// <returns>The output's name.</returns>
    public string Node(string operatorType, IReadOnlyList<string> inputs, string name, params OnnxAttribute[] attributes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(operatorType);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(attributes);
        string output = Unique(name);
        var node = new NodeProto { OpType = operatorType, Name = output };
        node.Input.AddRange(inputs.Select((input, i) => input ?? throw new ArgumentException($"Input {i} of the {operatorType} node '{output}' is null.", nameof(inputs))));
        node.Output.Add(output);
        node.Attribute.AddRange(attributes.Select(attribute => (attribute ?? throw new ArgumentNullException(nameof(attributes))).ToProto()));
        _graph.Node.Add(node);
        return output;
    }

    /// <summary>
    /// Writes a TorchSharp layer as it computes in evaluation mode: <c>Sequential</c> (its children in order),
    /// <c>Linear</c> (on <c>[N, features]</c>), <c>Conv2d</c> (zero padding), <c>BatchNorm1d</c>/<c>BatchNorm2d</c> (with running
    /// statistics), <c>MaxPool2d</c> (floor rounding), <c>AdaptiveAvgPool2d</c> to 1x1, <c>Flatten</c>, <c>ReLU</c>, <c>Tanh</c>,
    /// <c>GELU</c>, <c>Sigmoid</c>; <c>Identity</c>, dropout and memory-layout changes write nothing.
    /// </summary>
    /// <param name="module">The layer.</param>
    /// <param name="input">The name of its input.</param>
    /// <param name="name">A name for what it writes (its path in the network, say); made unique.</param>
    /// <returns>The name of its output.</returns>
    /// <exception cref="NotSupportedException">The layer, or a setting of it, has no ONNX form here; the message names it.</exception>
    public string Layer(nn.Module module, string input, string name)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentException.ThrowIfNullOrWhiteSpace(input);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        switch (module)
        {
            case Sequential sequential:
                foreach (var (childName, child) in sequential.named_children())
                    input = Layer(child, input, $"{name}.{childName}");
                return input;
            case Linear linear:
                return Gemm(input, linear.weight!, linear.bias, name);
            case Conv2d conv:
                return Conv(conv, input, name);
            case BatchNorm1d or BatchNorm2d:
                return BatchNorm((NormBase)module, input, name);
            case MaxPool2d pool:
                return MaxPool(pool, input, name);
            case AdaptiveAvgPool2d average:
                if (average.output_size is not null && average.output_size.Any(size => size != 1))
                    throw new NotSupportedException($"The layer '{name}' pools to [{string.Join(", ", average.output_size)}]; only global pooling (to 1x1) is exported.");
                return Node("GlobalAveragePool", new[] { input }, name);
            case Flatten flatten:
                if (flatten.start_dim != 1 || flatten.end_dim != -1)
                    throw new NotSupportedException($"The layer '{name}' flattens dimensions {flatten.start_dim} to {flatten.end_dim}; only 1 to -1 (all but the batch) is exported.");
                return Node("Flatten", new[] { input }, name, OnnxAttribute.Int("axis", 1));
            case ReLU:
                return Node("Relu", new[] { input }, name);
            case Tanh:
                return Node("Tanh", new[] { input }, name);
            case Sigmoid:
                return Node("Sigmoid", new[] { input }, name);
            case GELU gelu:
                return Gelu(input, string.Equals(gelu.approximate.ToString(), "tanh", StringComparison.OrdinalIgnoreCase), name);
            case Identity or Dropout or Dropout1d or Dropout2d or AlphaDropout:
                return input;
            default:
                if (IsLayoutOrDropout(module))
                    return input;
                throw new NotSupportedException(
                    $"The layer '{name}' is a {module.GetType().FullName}, which has no ONNX form here; write its nodes with OnnxGraphBuilder.Node in the network's OnnxExporter.");
        }
    }

    /// <summary>A dense layer, <c>input · weightᵀ + bias</c> (ONNX <c>Gemm</c>, which takes 2-D inputs: flatten first).</summary>
    /// <param name="input">The name of a <c>[N, in]</c> input.</param>
    /// <param name="weight">The weights <c>[out, in]</c>.</param>
    /// <param name="bias">The biases <c>[out]</c>, or null.</param>
    /// <param name="name">A name for the layer.</param>
    /// <returns>The output's name.</returns>
    public string Gemm(string input, Tensor weight, Tensor? bias, string name)
    {
        ArgumentNullException.ThrowIfNull(weight);
        var inputs = new List<string> { input, Constant(weight, $"{name}.weight") };
        if (bias is not null)
            inputs.Add(Constant(bias, $"{name}.bias"));
        return Node("Gemm", inputs, name, OnnxAttribute.Int("transB", 1));
    }

    /// <summary>Each row divided by its L2 norm, as <c>torch.nn.functional.normalize</c> computes it (norms below 1e-12 count as 1e-12).</summary>
    /// <param name="input">The name of a <c>[N, D]</c> input.</param>
    /// <param name="name">A name for the result.</param>
    /// <returns>The output's name.</returns>
    public string L2Normalize(string input, string name)
    {
        string norm = Node("ReduceL2", new[] { input }, $"{name}.norm", OnnxAttribute.Ints("axes", new[] { 1L }), OnnxAttribute.Int("keepdims", 1));
        string floored = Node("Max", new[] { norm, Constant(new[] { 1e-12f }, Array.Empty<long>(), $"{name}.epsilon") }, $"{name}.floored");
        return Node("Div", new[] { input, floored }, name);
    }

    private string Conv(Conv2d conv, string input, string name)
    {
        if (conv.padding_mode != PaddingModes.Zeros)
            throw new NotSupportedException($"The convolution '{name}' pads with {conv.padding_mode}; only zero padding is exported.");
        long[] padding = conv.padding ?? throw new NotSupportedException($"The convolution '{name}' uses padding '{conv.padding_type}'; give it explicit padding to export it.");
        var inputs = new List<string> { input, Constant(conv.weight, $"{name}.weight") };
        if (conv.bias is not null)
            inputs.Add(Constant(conv.bias, $"{name}.bias"));
        return Node("Conv", inputs, name,
            OnnxAttribute.Ints("kernel_shape", conv.kernel_size),
            OnnxAttribute.Ints("strides", conv.stride),
            OnnxAttribute.Ints("pads", padding.Concat(padding)),
            OnnxAttribute.Ints("dilations", conv.dilation),
            OnnxAttribute.Int("group", conv.groups));
    }

    private string BatchNorm(NormBase norm, string input, string name)
    {
        if (norm.running_mean is null || norm.running_var is null)
            throw new NotSupportedException($"The batch normalisation '{name}' keeps no running statistics; in evaluation it normalises with each batch's own, which an exported model cannot.");
        long channels = norm.running_mean.shape[0];
        using var ones = torch.ones(channels);
        using var zeros = torch.zeros(channels);
        return Node("BatchNormalization",
            new[]
            {
                input,
                Constant(norm.weight is null ? ones : norm.weight, $"{name}.weight"),
                Constant(norm.bias is null ? zeros : norm.bias, $"{name}.bias"),
                Constant(norm.running_mean, $"{name}.running_mean"),
                Constant(norm.running_var, $"{name}.running_var"),
            },
            name,
            OnnxAttribute.Float("epsilon", (float)norm.eps));
    }

    private string MaxPool(MaxPool2d pool, string input, string name)
    {
        // Before opset 19 ONNX sizes a ceil-mode output differently from torch when the last window starts in the padding.
        if (pool.ceil_mode)
            throw new NotSupportedException($"The pooling '{name}' rounds its output size up (ceil_mode); only floor rounding is exported at opset {Opset}.");
        long[] kernel = pool.kernel_size;
        long[] stride = pool.stride ?? kernel;
        long[] padding = pool.padding ?? new long[kernel.Length];
        long[] dilation = pool.dilation ?? Enumerable.Repeat(1L, kernel.Length).ToArray();
        return Node("MaxPool", new[] { input }, name,
            OnnxAttribute.Ints("kernel_shape", kernel),
            OnnxAttribute.Ints("strides", stride),
            OnnxAttribute.Ints("pads", padding.Concat(padding)),
            OnnxAttribute.Ints("dilations", dilation),
            OnnxAttribute.Int("ceil_mode", pool.ceil_mode ? 1 : 0));
    }

    /// <summary>GELU from opset 17's operators (its own operator came in opset 20).</summary>
    private string Gelu(string input, bool tanhApproximation, string name)
    {
        if (tanhApproximation)
        {
            // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            string cube = Node("Mul", new[] { input, Node("Mul", new[] { input, input }, $"{name}.square") }, $"{name}.cube");
            string inner = Node("Add", new[] { input, Node("Mul", new[] { cube, Constant(new[] { 0.044715f }, Array.Empty<long>(), $"{name}.c") }, $"{name}.scaled_cube") }, $"{name}.inner");
            string tanh = Node("Tanh", new[] { Node("Mul", new[] { inner, Constant(new[] { MathF.Sqrt(2f / MathF.PI) }, Array.Empty<long>(), $"{name}.k") }, $"{name}.argument") }, $"{name}.tanh");
            return HalfXTimesOnePlus(input, tanh, name);
        }

        // 0.5 x (1 + erf(x / sqrt 2))
        string erf = Node("Erf", new[] { Node("Div", new[] { input, Constant(new[] { MathF.Sqrt(2f) }, Array.Empty<long>(), $"{name}.sqrt2") }, $"{name}.scaled") }, $"{name}.erf");
        return HalfXTimesOnePlus(input, erf, name);
    }

    private string HalfXTimesOnePlus(string input, string value, string name)
    {
        string onePlus = Node("Add", new[] { value, Constant(new[] { 1f }, Array.Empty<long>(), $"{name}.one") }, $"{name}.one_plus");
        string half = Node("Mul", new[] { input, Constant(new[] { 0.5f }, Array.Empty<long>(), $"{name}.half") }, $"{name}.half_x");
        return Node("Mul", new[] { half, onePlus }, name);
    }

    /// <summary>The library's own layers that change no value (the channels-last layout, its dropout), found by name because they are internal to the core.</summary>
    private static bool IsLayoutOrDropout(nn.Module module) =>
        module.GetType().Assembly == typeof(TrainedModel).Assembly && module.GetType().Name is "ChannelsLastLayout" or "FastDropout";

    private string AddConstant(string name, ReadOnlySpan<long> shape, TensorProto.Types.DataType type, ReadOnlySpan<byte> bytes)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("ONNX stores raw tensor data little-endian; exporting on a big-endian machine is not supported.");
        string unique = Unique(name);
        var constant = new TensorProto { Name = unique, DataType = (int)type, RawData = ByteString.CopyFrom(bytes) };
        constant.Dims.AddRange(shape.ToArray());
        _graph.Initializer.Add(constant);
        return unique;
    }

    private static void CheckShape(int count, long[] shape, string name)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Any(size => size < 0) || shape.Aggregate(1L, (product, size) => product * size) != count)
            throw new ArgumentException($"The constant '{name}' has {count} values, which do not fill the shape [{string.Join(", ", shape)}].", nameof(shape));
    }

    private string Unique(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (_names.Add(name))
            return name;
        for (int i = 2; ; i++)
        {
            string candidate = $"{name}_{i}";
            if (_names.Add(candidate))
                return candidate;
        }
    }
}
