using System;
using System.Linq;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MetricLearning.Networks;

/// <summary>
/// An <see cref="MlpEmbeddingNetwork"/>'s training pass computed without autograd (its <see cref="IFusedNetworkPass"/>,
/// which the trainers' fused steps use with a loss's hand-written gradient): each layer's matrix product goes straight
/// into a buffer made once, the weight gradients straight into the parameters' gradients, and the bias, activation,
/// dropout and their derivatives are one managed pass per layer over those buffers.
/// </summary>
/// <remarks>
/// <para>
/// Why: at the reference experiment's size (256 rows of 784 → 128 → 128 → 128) the autograd step spent about as long
/// between its matrix products (small kernels, their allocations, the graph) as in them; <c>bench step</c> shows the
/// breakdown. This pass has the same matrix products, no graph, and no allocation of activations or gradients.
/// </para>
/// <para>
/// Dropout draws its masks exactly as <see cref="FastDropout"/> does (one seed per layer from torch's global
/// generator, in layer order), so a seed gives the same masks on both paths; the results differ from autograd's only
/// in the rounding of sums. ReLU, tanh and the identity are supported (<see cref="WhyNot"/>). Forward hooks
/// registered on the network's modules are not run (the pass does not call them). Not thread-safe; CPU, float32.
/// </para>
/// </remarks>
internal sealed class FusedMlpPass : IFusedNetworkPass
{
    private readonly MlpEmbeddingNetwork _network;
    private readonly Parameter[] _weights;
    private readonly Parameter[] _biases;
    // Sizes read once: every property of a tensor is a native call.
    private readonly int[] _widths;
    private readonly Activation _activation;
    private readonly bool _activateLastLayer;
    private readonly double _dropout;
    private readonly Tensor _inputs;
    // Per layer, [rows, width]: the layer's output (activation of z + bias, times the dropout mask) and the derivative
    // of that output with respect to z (the activation's slope times the mask), which is all the backward pass needs.
    private readonly Tensor[] _outputs;
    private readonly Tensor[] _slopes;
    // Two buffers of rows × widest layer for the gradient flowing back, used in turn; flat, so that a [rows, width]
    // view of either is contiguous whatever the width.
    private readonly Tensor _gradient;
    private readonly Tensor _nextGradient;

    internal FusedMlpPass(MlpEmbeddingNetwork network, int maxRows)
    {
        _network = network;
        var layers = network.DenseLayers();
        _weights = layers.Select(layer => layer.weight!).ToArray();
        _biases = layers.Select(layer => layer.bias!).ToArray();
        _widths = _weights.Select(weight => (int)weight.shape[0]).ToArray();
        MaxRows = maxRows;
        _activation = network.Options.Activation;
        _activateLastLayer = network.Options.ActivateLastLayer;
        _dropout = network.Options.Dropout;
        // Buffers made inside a scope, kept only if every one could be made.
        using var scope = NewDisposeScope();
        Tensor Buffer(params long[] shape) => empty(shape, dtype: ScalarType.Float32);
        _inputs = Buffer(maxRows, network.Options.InputSize);
        _outputs = _widths.Select(width => Buffer(maxRows, width)).ToArray();
        _slopes = _widths.Select(width => Buffer(maxRows, width)).ToArray();
        long widest = _widths.Max();
        _gradient = Buffer(maxRows * widest);
        _nextGradient = Buffer(maxRows * widest);
        foreach (var buffer in _outputs.Concat(_slopes).Append(_inputs).Append(_gradient).Append(_nextGradient))
            buffer.DetachFromDisposeScope();
    }

    /// <inheritdoc />
    public int MaxRows { get; }

    /// <inheritdoc />
    public int EmbeddingWidth => _widths[^1];

    /// <summary>
    /// Why the fused pass cannot train <paramref name="mlp"/> on inputs of <paramref name="inputShape"/> on
    /// <paramref name="device"/> in passes of up to <paramref name="maxRows"/> rows, or null when it can.
    /// </summary>
    internal static string? WhyNot(MlpEmbeddingNetwork mlp, IReadOnlyList<long> inputShape, Device device, long maxRows)
    {
        var layers = mlp.DenseLayers();
        var parameters = mlp.parameters().ToList();
        if (parameters.Count != 2 * layers.Count || layers.Any(layer => layer.bias is null))
            return "the network has parameters besides its dense layers' weights and biases";
        // Its buffers are read as spans, whose length is an int.
        long widest = Math.Max(mlp.Options.InputSize, layers.Max(layer => layer.weight!.shape[0]));
        if (maxRows < 1)
            return $"a step has no rows ({maxRows})";
        if (maxRows > int.MaxValue / sizeof(float) / widest)
            return $"a step of {maxRows} rows of up to {widest} values is more than one buffer holds (2 GB)";
        if (inputShape.Aggregate(1L, (product, size) => product * size) != mlp.Options.InputSize)
            return $"the inputs have [{string.Join(", ", inputShape)}] values each, not the network's {mlp.Options.InputSize}";
        if (device.type != DeviceType.CPU)
            return $"the inputs are on {device}";
        if (mlp.Options.Activation is not (Activation.Relu or Activation.Tanh or Activation.Identity))
            return $"the activation is {mlp.Options.Activation}";
        foreach (var parameter in parameters)
        {
            if (parameter.device_type != DeviceType.CPU)
                return $"the network is on {parameter.device}";
            if (parameter.dtype != ScalarType.Float32)
                return $"the network's parameters are {parameter.dtype}";
            if (!parameter.requires_grad)
                return "a parameter of the network is frozen (requires_grad is false)";
            if (!parameter.is_contiguous())
                return "a parameter of the network is not contiguous";
        }

        return null;
    }

    /// <inheritdoc />
    public Tensor Inputs(int rows) => _inputs.narrow(0, 0, CheckRows(rows));

    /// <summary>
    /// Embeds the first <paramref name="rows"/> rows of <see cref="Inputs"/> (with dropout when the network is in
    /// training mode). Call under <c>no_grad</c>, inside a dispose scope.
    /// </summary>
    /// <returns>The embeddings, <c>[rows, EmbeddingWidth]</c>, a view of a buffer that the next pass overwrites.</returns>
    public Tensor Forward(int rows)
    {
        bool dropout = _network.training && _dropout > 0;
        var input = _inputs.narrow(0, 0, CheckRows(rows));
        for (int l = 0; l < _weights.Length; l++)
        {
            var output = _outputs[l].narrow(0, 0, rows);
            var slope = _slopes[l].narrow(0, 0, rows);
            output.addmm_(input, _weights[l].t(), beta: 0);
            bool last = l == _weights.Length - 1;
            bool drop = dropout && !last;
            if (drop)
            {
                // Exactly FastDropout's draw: one seed from torch's generator per layer, in layer order.
                using var draw = randint(long.MaxValue, new long[] { 1 }, dtype: ScalarType.Int64);
                FastDropout.FillMask(FusedBuffers.Floats(slope), _dropout, (ulong)draw.item<long>());
            }

            Activate(FusedBuffers.Floats(output), FusedBuffers.Floats(slope), FusedBuffers.Floats(_biases[l]), !last || _activateLastLayer ? _activation : Activation.Identity, drop);
            input = output;
        }

        return input;
    }

    /// <summary>Where the caller writes the loss's gradient with respect to the last <see cref="Forward"/>'s embeddings before <see cref="Backward"/>.</summary>
    public Tensor EmbeddingGradient(int rows) => Rows(_gradient, CheckRows(rows), EmbeddingWidth);

    private int CheckRows(int rows) => rows >= 1 && rows <= MaxRows
        ? rows
        : throw new ArgumentOutOfRangeException(nameof(rows), rows, $"A fused pass takes 1 to {MaxRows} rows.");

    /// <summary>
    /// Backpropagates the gradient in <see cref="EmbeddingGradient"/> through the last <see cref="Forward"/> and writes
    /// every parameter's gradient (replacing what was there). Call under <c>no_grad</c>, inside a dispose scope.
    /// </summary>
    public void Backward(int rows)
    {
        CheckRows(rows);
        var next = _nextGradient;
        var current = _gradient;
        for (int l = _weights.Length - 1; l >= 0; l--)
        {
            int width = _widths[l];
            var upstream = Rows(current, rows, width);
            var weightGradient = GradientOf(_weights[l]);
            var biasGradient = GradientOf(_biases[l]);
            ApplySlope(FusedBuffers.Floats(upstream), FusedBuffers.Floats(_slopes[l].narrow(0, 0, rows)), FusedBuffers.Floats(biasGradient), width);
            var layerInput = l == 0 ? _inputs.narrow(0, 0, rows) : _outputs[l - 1].narrow(0, 0, rows);
            weightGradient.addmm_(upstream.t(), layerInput, beta: 0);
            if (l > 0)
            {
                var downstream = Rows(next, rows, _widths[l - 1]);
                downstream.addmm_(upstream, _weights[l], beta: 0);
                (current, next) = (next, current);
            }
        }
    }

    /// <summary>The first <paramref name="rows"/> × <paramref name="width"/> elements of a flat buffer, as a contiguous matrix.</summary>
    private static Tensor Rows(Tensor buffer, long rows, long width) => buffer.narrow(0, 0, rows * width).view(rows, width);

    /// <summary>The parameter's gradient tensor, made (zero) if it has none yet.</summary>
    private static Tensor GradientOf(Parameter parameter)
    {
        var gradient = parameter.grad;
        if (gradient is null)
        {
            parameter.grad = zeros_like(parameter);
            gradient = parameter.grad!;
        }

        return gradient;
    }

    /// <summary>
    /// <c>output ← f(output + bias)·mask</c> and <c>slope ← f′(output + bias)·mask</c> row by row, where the mask is in
    /// <paramref name="slope"/> on entry when <paramref name="dropout"/> is set (and is 1 otherwise).
    /// </summary>
    private static void Activate(Span<float> output, Span<float> slope, ReadOnlySpan<float> bias, Activation activation, bool dropout)
    {
        int width = bias.Length;
        for (int row = 0; row < output.Length; row += width)
        {
            var values = output.Slice(row, width);
            var slopes = slope.Slice(row, width);
            int c = 0;
            if (activation is Activation.Relu or Activation.Identity && Vector.IsHardwareAccelerated)
            {
                var zero = Vector<float>.Zero;
                var one = Vector<float>.One;
                for (; c <= width - Vector<float>.Count; c += Vector<float>.Count)
                {
                    var z = new Vector<float>(values.Slice(c)) + new Vector<float>(bias.Slice(c));
                    var mask = dropout ? new Vector<float>(slopes.Slice(c)) : one;
                    Vector<float> activated, derivative;
                    if (activation == Activation.Relu)
                    {
                        // As torch's ReLU: a NaN passes through forward (so a diverged run is seen), and backward
                        // (threshold_backward zeroes the gradient only where z ≤ 0).
                        activated = Vector.ConditionalSelect(Vector.LessThan(z, zero), zero, z);
                        derivative = Vector.ConditionalSelect(Vector.LessThanOrEqual(z, zero), zero, mask);
                    }
                    else
                    {
                        activated = z;
                        derivative = mask;
                    }

                    (activated * mask).CopyTo(values.Slice(c));
                    derivative.CopyTo(slopes.Slice(c));
                }
            }

            for (; c < width; c++)
            {
                float z = values[c] + bias[c];
                float mask = dropout ? slopes[c] : 1f;
                float activated, derivative;
                switch (activation)
                {
                    case Activation.Relu:
                        activated = z < 0 ? 0f : z;
                        derivative = z <= 0 ? 0f : 1f;
                        break;
                    case Activation.Tanh:
                        activated = MathF.Tanh(z);
                        derivative = 1 - activated * activated;
                        break;
                    default:
                        activated = z;
                        derivative = 1f;
                        break;
                }

                values[c] = activated * mask;
                slopes[c] = derivative * mask;
            }
        }
    }

    /// <summary>
    /// <c>upstream ← upstream·slope</c> (the gradient with respect to the layer's pre-activation) and the bias
    /// gradient as its column sums.
    /// </summary>
    private static void ApplySlope(Span<float> upstream, ReadOnlySpan<float> slope, Span<float> biasGradient, int width)
    {
        biasGradient.Clear();
        for (int row = 0; row < upstream.Length; row += width)
        {
            var values = upstream.Slice(row, width);
            var slopes = slope.Slice(row, width);
            int c = 0;
            if (Vector.IsHardwareAccelerated)
            {
                for (; c <= width - Vector<float>.Count; c += Vector<float>.Count)
                {
                    var g = new Vector<float>(values.Slice(c)) * new Vector<float>(slopes.Slice(c));
                    g.CopyTo(values.Slice(c));
                    (new Vector<float>(biasGradient.Slice(c)) + g).CopyTo(biasGradient.Slice(c));
                }
            }

            for (; c < width; c++)
            {
                float g = values[c] * slopes[c];
                values[c] = g;
                biasGradient[c] += g;
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _inputs.Dispose();
        foreach (var buffer in _outputs.Concat(_slopes))
            buffer.Dispose();
        _gradient.Dispose();
        _nextGradient.Dispose();
    }
}
