using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Runtime.InteropServices;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Models;
using MetricLearning.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MetricLearning.Training;

/// <summary>
/// One step of the pair path for an <see cref="MlpEmbeddingNetwork"/> trained with the <see cref="EuclideanDistance"/>
/// and the <see cref="ContrastiveLoss"/>, float32 on the CPU, computed without autograd: the step's matrix products
/// go straight into buffers made once (and the weight gradients straight into the parameters' gradients), and
/// everything between them (bias, activation, dropout, distance, loss and their derivatives) is a few passes of
/// managed code over those buffers, in closed form.
/// </summary>
/// <remarks>
/// <para>
/// Why: at the reference experiment's size (256 rows of 784 → 128 → 128 → 128) the autograd step spent about as long
/// between its matrix products (small kernels, their allocations, the graph) as in them; <c>bench step</c> shows the
/// breakdown. This computes the same function and the same gradients (checked against autograd in the tests) with
/// the step's eight matrix products, no graph and no allocation of its activations.
/// </para>
/// <para>
/// Dropout draws its masks exactly as <see cref="FastDropout"/> does (one seed per layer from torch's global
/// generator, in layer order), so a seed gives the same masks on both paths; results differ from the autograd path
/// only in the rounding of sums. <see cref="TryCreate"/> returns null, with the reason, for anything else (another
/// network, activation, distance or loss, another device or dtype, a frozen parameter), which then trains on the
/// generic path. Not thread-safe.
/// </para>
/// </remarks>
internal sealed class FusedMlpPairStep : IDisposable
{
    private readonly MlpEmbeddingNetwork _network;
    private readonly Parameter[] _weights;
    private readonly Parameter[] _biases;
    // Sizes read once: every property of a tensor is a native call.
    private readonly int[] _widths;
    private readonly int _maxRows;
    private readonly Activation _activation;
    private readonly bool _activateLastLayer;
    private readonly double _dropout;
    private readonly float _margin;
    private readonly float _sqrtFloor;
    // Per layer, [rows, width]: the layer's output (activation of z + bias, times the dropout mask) and the derivative
    // of that output with respect to z (the activation's slope times the mask), which is all the backward pass needs.
    private readonly Tensor _inputs;
    private readonly Tensor[] _outputs;
    private readonly Tensor[] _slopes;
    // Two buffers of rows × widest layer for the gradient flowing back, used in turn; flat, so that a [rows, width]
    // view of either is contiguous whatever the width.
    private readonly Tensor _gradient;
    private readonly Tensor _nextGradient;

    private FusedMlpPairStep(MlpEmbeddingNetwork network, Linear[] layers, EuclideanDistance distance, ContrastiveLoss loss, int maxRows)
    {
        _network = network;
        _weights = layers.Select(layer => layer.weight!).ToArray();
        _biases = layers.Select(layer => layer.bias!).ToArray();
        _widths = _weights.Select(weight => (int)weight.shape[0]).ToArray();
        _maxRows = maxRows;
        _activation = network.Options.Activation;
        _activateLastLayer = network.Options.ActivateLastLayer;
        _dropout = network.Options.Dropout;
        _margin = (float)loss.Margin;
        _sqrtFloor = (float)Math.Sqrt(distance.Floor);
        _inputs = empty(maxRows, network.Options.InputSize).DetachFromDisposeScope();
        _outputs = _widths.Select(width => empty(maxRows, width).DetachFromDisposeScope()).ToArray();
        _slopes = _widths.Select(width => empty(maxRows, width).DetachFromDisposeScope()).ToArray();
        long widest = _widths.Max();
        _gradient = empty(maxRows * widest).DetachFromDisposeScope();
        _nextGradient = empty(maxRows * widest).DetachFromDisposeScope();
    }

    /// <summary>
    /// The fused step for <paramref name="model"/> and <paramref name="loss"/>, or null (with the reason) when they
    /// are not the combination it computes.
    /// </summary>
    /// <param name="model">The Siamese model being trained.</param>
    /// <param name="loss">The pair loss.</param>
    /// <param name="inputs">The inputs the steps will gather from.</param>
    /// <param name="maxPairs">The most pairs a step has (the batch size).</param>
    /// <param name="reason">Why the fused step does not apply; null when it does.</param>
    internal static FusedMlpPairStep? TryCreate(SiameseNetwork model, ILoss loss, InputSet inputs, int maxPairs, out string? reason)
    {
        reason = WhyNot(model, loss, inputs);
        if (reason is not null)
            return null;
        var network = (MlpEmbeddingNetwork)model.Embedding;
        return new FusedMlpPairStep(network, network.DenseLayers().ToArray(), (EuclideanDistance)model.Distance, (ContrastiveLoss)loss, 2 * maxPairs);
    }

    private static string? WhyNot(SiameseNetwork model, ILoss loss, InputSet inputs)
    {
        if (model.Embedding is not MlpEmbeddingNetwork network)
            return $"the network is a {model.Embedding.GetType().Name}, not an {nameof(MlpEmbeddingNetwork)}";
        if (inputs.InputShape.Aggregate(1L, (product, size) => product * size) != network.Options.InputSize)
            return $"the inputs have [{string.Join(", ", inputs.InputShape)}] values each, not the network's {network.Options.InputSize}";
        if (inputs.Device.type != DeviceType.CPU)
            return $"the inputs are on {inputs.Device}";
        if (network.Options.Activation is not (Activation.Relu or Activation.Tanh or Activation.Identity))
            return $"the activation is {network.Options.Activation}";
        if (model.Distance is not EuclideanDistance)
            return $"the distance is a {model.Distance.GetType().Name}, not a {nameof(EuclideanDistance)}";
        if (loss is not ContrastiveLoss)
            return $"the loss is a {loss.GetType().Name}, not a {nameof(ContrastiveLoss)}";
        foreach (var parameter in network.parameters())
        {
            if (parameter.device_type != DeviceType.CPU)
                return $"the network is on {parameter.device}";
            if (parameter.dtype != ScalarType.Float32)
                return $"the network's parameters are {parameter.dtype}";
            if (!parameter.requires_grad)
                return "a parameter of the network is frozen (requires_grad is false)";
        }

        return null;
    }

    /// <summary>
    /// Computes the loss of one step and writes its gradient into every parameter's gradient (replacing what was
    /// there, so no zeroing is needed first).
    /// </summary>
    /// <param name="inputs">The set the step's inputs are gathered from.</param>
    /// <param name="indices">Int64 <c>[2N]</c> on the CPU: the pairs' first inputs' rows, then their second inputs' rows.</param>
    /// <param name="sameClass">Float32 <c>[N]</c>: 1 for a same-class pair, 0 otherwise.</param>
    /// <returns>The mean loss, a float32 0-d tensor in the caller's dispose scope (no autograd history).</returns>
    internal Tensor Step(InputSet inputs, Tensor indices, Tensor sameClass)
    {
        int rows = checked((int)indices.shape[0]);
        int pairs = rows / 2;
        if (rows == 0 || rows % 2 != 0 || rows > _maxRows || sameClass.shape[0] != pairs)
            throw new ArgumentException(
                $"A fused step takes an even number of rows up to {_maxRows} and a same-class flag per pair; got {rows} rows and {sameClass.shape[0]} flags.", nameof(indices));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        bool dropout = _network.training && _dropout > 0;

        // Forward: each layer's product straight into its output buffer, then bias, activation and dropout in one pass.
        var input = _inputs.narrow(0, 0, rows);
        inputs.GatherInto(indices, input);
        var layerInputs = new Tensor[_weights.Length];
        for (int l = 0; l < _weights.Length; l++)
        {
            layerInputs[l] = input;
            var output = _outputs[l].narrow(0, 0, rows);
            var slope = _slopes[l].narrow(0, 0, rows);
            output.addmm_(input, _weights[l].t(), beta: 0);
            bool last = l == _weights.Length - 1;
            bool drop = dropout && !last;
            if (drop)
            {
                // Exactly FastDropout's draw: one seed from torch's generator per layer, in layer order.
                using var draw = randint(long.MaxValue, new long[] { 1 }, dtype: ScalarType.Int64);
                FastDropout.FillMask(Floats(slope), _dropout, (ulong)draw.item<long>());
            }

            Activate(Floats(output), Floats(slope), Floats(_biases[l]), !last || _activateLastLayer ? _activation : Activation.Identity, drop);
            input = output;
        }

        // Distance and contrastive loss, and the loss's gradient with respect to the embeddings.
        var gradient = Rows(_gradient, rows, _widths[^1]);
        double loss = DistanceAndLoss(Floats(input), Floats(sameClass), Floats(gradient), pairs, _widths[^1]);

        // Backward: the gradient through each layer's slope, then its weight and bias gradients and the gradient of its input.
        var next = _nextGradient;
        var current = _gradient;
        for (int l = _weights.Length - 1; l >= 0; l--)
        {
            int width = _widths[l];
            var upstream = Rows(current, rows, width);
            var weightGradient = GradientOf(_weights[l]);
            var biasGradient = GradientOf(_biases[l]);
            ApplySlope(Floats(upstream), Floats(_slopes[l].narrow(0, 0, rows)), Floats(biasGradient), width);
            weightGradient.addmm_(upstream.t(), layerInputs[l], beta: 0);
            if (l > 0)
            {
                var downstream = Rows(next, rows, _widths[l - 1]);
                downstream.addmm_(upstream, _weights[l], beta: 0);
                (current, next) = (next, current);
            }
        }

        return tensor((float)loss).MoveToOuterDisposeScope();
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

    /// <summary>A contiguous CPU float32 tensor's elements, in place.</summary>
    private static Span<float> Floats(Tensor tensor)
    {
        if (!tensor.is_contiguous())
            throw new InvalidOperationException("The fused step needs contiguous tensors.");
        return MemoryMarshal.Cast<byte, float>(tensor.bytes);
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
                        // As torch's ReLU: NaN passes through forward (so a diverged run is seen) and gets no slope.
                        activated = Vector.ConditionalSelect(Vector.LessThan(z, zero), zero, z);
                        derivative = Vector.ConditionalSelect(Vector.GreaterThan(z, zero), mask, zero);
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
                (float activated, float derivative) = activation switch
                {
                    Activation.Relu => (z < 0 ? 0f : z, z > 0 ? 1f : 0f),
                    Activation.Tanh => (MathF.Tanh(z), 0f),
                    _ => (z, 1f),
                };
                if (activation == Activation.Tanh)
                    derivative = 1 - activated * activated;
                values[c] = activated * mask;
                slopes[c] = derivative * mask;
            }
        }
    }

    /// <summary>
    /// The mean contrastive loss of the pairs (rows <c>i</c> and <c>N + i</c> of <paramref name="embeddings"/>) at their
    /// Euclidean distance, with its gradient with respect to every embedding written into <paramref name="gradient"/>.
    /// </summary>
    private double DistanceAndLoss(ReadOnlySpan<float> embeddings, ReadOnlySpan<float> sameClass, Span<float> gradient, int pairs, int width)
    {
        double total = 0;
        int half = pairs * width;
        for (int i = 0; i < pairs; i++)
        {
            var first = embeddings.Slice(i * width, width);
            var second = embeddings.Slice(half + i * width, width);
            var firstGradient = gradient.Slice(i * width, width);
            var secondGradient = gradient.Slice(half + i * width, width);
            float squares = 0;
            for (int k = 0; k < width; k++)
            {
                float difference = first[k] - second[k];
                firstGradient[k] = difference;
                squares += difference * difference;
            }

            float norm = MathF.Sqrt(squares);
            // d = max(‖a − b‖, √floor): the gradient passes only where the norm is at or above the floor (as clamp_min's does).
            bool passes = norm >= _sqrtFloor;
            float distance = norm < _sqrtFloor ? _sqrtFloor : norm; // a NaN stays NaN, as with clamp_min

            float y = sameClass[i];
            float shortfall = Math.Min(distance - _margin, 0f);
            total += y * distance * distance + (1 - y) * shortfall * shortfall;
            // dL/dd for the mean over pairs; dd/da = (a − b)/‖a − b‖ and dd/db = −dd/da.
            float slope = passes ? 2f / pairs * (y * distance + (1 - y) * shortfall) / norm : 0f;
            for (int k = 0; k < width; k++)
            {
                float g = firstGradient[k] * slope;
                firstGradient[k] = g;
                secondGradient[k] = -g;
            }
        }

        return total / pairs;
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
