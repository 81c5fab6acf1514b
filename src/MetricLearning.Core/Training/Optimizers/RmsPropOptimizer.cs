using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MetricLearning.Training;

/// <summary>
/// RMSprop (Hinton), as in Keras and PyTorch without momentum or centring:
/// <c>v ← ρ·v + (1 − ρ)·g²;  θ ← θ − lr·g / (√v + ε)</c>, with <c>v</c> starting at zero.
/// </summary>
/// <remarks>
/// <para>
/// Built for speed on small networks, where the cost of a step is the number of tensor operations rather than their
/// size: the parameters and their gradients are moved into one contiguous buffer each (every parameter becomes a
/// view into it, with its values unchanged), so a step is one managed pass over the buffers on the CPU (float32, up
/// to 2 GB a buffer) and seven tensor operations elsewhere, whatever the number of layers, instead of five operations
/// per parameter. Backward passes accumulate into the gradient buffer, so call <see cref="ZeroGrad"/>
/// before each backward pass, not <c>Module.zero_grad</c> with <c>set_to_none</c>.
/// </para>
/// <para>
/// <c>√v</c> is computed as <c>√max(v, 1e-30)</c>: libtorch's MKL square root takes a slow path for zeros and
/// denormals (the moments of weights that never receive a gradient, such as those of MNIST's blank border pixels)
/// that was measured to cost 6× a normal square root. The floor changes the denominator by at most 1e-15, eight
/// orders of magnitude below the default ε.
/// </para>
/// <para>Not thread-safe. Dispose it to free its buffers; the parameters keep their storage.</para>
/// </remarks>
internal sealed class RmsPropOptimizer : IStepOptimizer
{
    private const double SquareRootFloor = 1e-30;
    private readonly Tensor _parameters;
    private readonly Tensor _gradients;
    private readonly Tensor _squareAverage;
    private readonly Tensor? _denominator;
    private double _learningRate;
    private readonly bool _onCpu;

    // Made once: TorchSharp frees a Scalar only when disposed or finalised, so five per step would hold native
    // memory between garbage collections (measured: tens of MB per epoch).
    private readonly Scalar _rho;
    private readonly Scalar _oneMinusRho;
    private readonly Scalar _epsilon;
    private Scalar _negativeLearningRate;
    private readonly Scalar _floor;

    /// <summary>Creates the optimiser, taking over the storage of <paramref name="parameters"/>.</summary>
    /// <param name="parameters">Parameters to update, all of one floating-point dtype and on one device.</param>
    /// <param name="learningRate">Step size; positive.</param>
    /// <param name="rho">Decay of the squared-gradient average (PyTorch's <c>alpha</c>), in [0, 1).</param>
    /// <param name="epsilon">Added to the root of the squared-gradient average; positive.</param>
    /// <exception cref="ArgumentException">There are no parameters, they mix dtypes or devices, or a setting is out of range.</exception>
    public RmsPropOptimizer(IEnumerable<Parameter> parameters, double learningRate = 1e-3, double rho = 0.9, double epsilon = 1e-7)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!double.IsFinite(learningRate) || learningRate <= 0)
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be positive and finite.");
        if (!double.IsFinite(rho) || rho < 0 || rho >= 1)
            throw new ArgumentOutOfRangeException(nameof(rho), rho, "Rho must be in [0, 1).");
        if (!double.IsFinite(epsilon) || epsilon <= 0)
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Epsilon must be positive and finite.");

        var list = parameters.ToList();
        if (list.Count == 0)
            throw new ArgumentException("There are no parameters to optimise.", nameof(parameters));
        var first = list[0];
        if (!first.is_floating_point())
            throw new ArgumentException($"Parameters must be floating point; the first is {first.dtype}.", nameof(parameters));
        foreach (var parameter in list)
        {
            if (parameter.dtype != first.dtype || parameter.device.type != first.device.type || parameter.device.index != first.device.index)
                throw new ArgumentException(
                    $"All parameters must share one dtype and device; found {first.dtype} on {first.device} and {parameter.dtype} on {parameter.device}.",
                    nameof(parameters));
        }

        _learningRate = learningRate;
        long total = list.Sum(parameter => parameter.numel());
        // The managed pass reads the buffers as spans, whose length is an int.
        _onCpu = first.device_type == DeviceType.CPU && first.dtype == ScalarType.Float32 && total <= int.MaxValue / sizeof(float);
        Rho = rho;
        Epsilon = epsilon;
        _rho = rho.ToScalar();
        _oneMinusRho = (1 - rho).ToScalar();
        _epsilon = epsilon.ToScalar();
        _negativeLearningRate = (-learningRate).ToScalar();
        _floor = SquareRootFloor.ToScalar();

        _parameters = zeros(total, dtype: first.dtype, device: first.device).DetachFromDisposeScope();
        _gradients = zeros(total, dtype: first.dtype, device: first.device).DetachFromDisposeScope();
        _squareAverage = zeros(total, dtype: first.dtype, device: first.device).DetachFromDisposeScope();
        // The kernels' scratch; the managed pass needs none.
        _denominator = _onCpu ? null : zeros(total, dtype: first.dtype, device: first.device).DetachFromDisposeScope();

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long offset = 0;
        foreach (var parameter in list)
        {
            long count = parameter.numel();
            var values = _parameters.narrow(0, offset, count).view(parameter.shape);
            values.copy_(parameter);
            parameter.set_(values);
            parameter.grad = _gradients.narrow(0, offset, count).view(parameter.shape);
            offset += count;
        }
    }

    /// <summary>Step size; a schedule may change it between steps.</summary>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            if (!double.IsFinite(value) || value <= 0)
                throw new ArgumentOutOfRangeException(nameof(value), value, "The learning rate must be positive and finite.");
            _negativeLearningRate.Dispose();
            _negativeLearningRate = (-value).ToScalar();
            _learningRate = value;
        }
    }

    /// <inheritdoc />
    public int GroupCount => 1;

    /// <inheritdoc />
    public double GetLearningRate(int group) => group == 0 ? LearningRate : throw new ArgumentOutOfRangeException(nameof(group), group, "RMSprop's fast path has one parameter group.");

    /// <inheritdoc />
    public void SetLearningRate(int group, double learningRate)
    {
        if (group != 0)
            throw new ArgumentOutOfRangeException(nameof(group), group, "RMSprop's fast path has one parameter group.");
        LearningRate = learningRate;
    }

    /// <summary>Decay of the squared-gradient average.</summary>
    public double Rho { get; }

    /// <summary>Added to the root of the squared-gradient average.</summary>
    public double Epsilon { get; }

    /// <summary>Zeroes every gradient in place (one operation).</summary>
    public void ZeroGrad() => _gradients.zero_();

    /// <summary>Applies one update from the accumulated gradients.</summary>
    public void Step()
    {
        if (_onCpu)
        {
            StepInPlace();
            return;
        }

        using var noGrad = no_grad();
        // In-place operations return their receiver, so nothing here allocates a tensor.
        _squareAverage.mul_(_rho).addcmul_(_gradients, _gradients, _oneMinusRho);
        _denominator!.copy_(_squareAverage).clamp_min_(_floor).sqrt_().add_(_epsilon);
        _parameters.addcdiv_(_gradients, _denominator!, _negativeLearningRate);
    }

    /// <summary>
    /// The same update on the CPU as one managed pass over the three buffers instead of seven kernels, each a pass
    /// over memory: <c>v ← v·ρ + (1 − ρ)·g·g</c>, <c>d = √max(v, floor) + ε</c>, <c>θ ← θ + (−lr)·(g / d)</c>, in float32.
    /// The last differs from the kernel (<c>addcdiv</c> computes <c>((−lr)·g) / d</c>) in rounding only.
    /// </summary>
    private void StepInPlace()
    {
        var parameters = MemoryMarshal.Cast<byte, float>(_parameters.bytes);
        var gradients = MemoryMarshal.Cast<byte, float>(_gradients.bytes);
        var squares = MemoryMarshal.Cast<byte, float>(_squareAverage.bytes);
        float rho = (float)Rho, oneMinusRho = (float)(1 - Rho), epsilon = (float)Epsilon, step = (float)-_learningRate;
        const float Floor = (float)SquareRootFloor;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vRho = new Vector<float>(rho);
            var vOneMinusRho = new Vector<float>(oneMinusRho);
            var vEpsilon = new Vector<float>(epsilon);
            var vStep = new Vector<float>(step);
            var vFloor = new Vector<float>(Floor);
            for (; i <= parameters.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var g = new Vector<float>(gradients.Slice(i));
                var v = new Vector<float>(squares.Slice(i)) * vRho + vOneMinusRho * g * g;
                v.CopyTo(squares.Slice(i));
                var denominator = Vector.SquareRoot(Vector.Max(v, vFloor)) + vEpsilon;
                (new Vector<float>(parameters.Slice(i)) + vStep * (g / denominator)).CopyTo(parameters.Slice(i));
            }
        }

        for (; i < parameters.Length; i++)
        {
            float g = gradients[i];
            float v = squares[i] * rho + oneMinusRho * g * g;
            squares[i] = v;
            parameters[i] += step * (g / (MathF.Sqrt(Math.Max(v, Floor)) + epsilon));
        }
    }

    /// <inheritdoc />
    public byte[] SaveState() => TensorBlob.Encode(_squareAverage);

    /// <inheritdoc />
    public void LoadState(byte[] state) => TensorBlob.Restore(state, _squareAverage, "RMSprop's squared-gradient average");

    /// <inheritdoc />
    public void Dispose()
    {
        _parameters.Dispose();
        _gradients.Dispose();
        _squareAverage.Dispose();
        _denominator?.Dispose();
        _rho.Dispose();
        _oneMinusRho.Dispose();
        _epsilon.Dispose();
        _negativeLearningRate.Dispose();
        _floor.Dispose();
    }
}
