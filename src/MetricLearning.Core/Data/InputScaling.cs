using System.Collections.Generic;
using System;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Data;

/// <summary>
/// The library's input preprocessing: <c>x' = (x · Scale − Mean) / StandardDeviation</c>, elementwise. MNIST's pixels
/// (0 to 255) are read with <c>Scale = 1/255</c>; <see cref="Identity"/> leaves inputs as they are.
/// </summary>
/// <remarks>Saved with a model by its three numbers. Immutable and thread-safe.</remarks>
public sealed class InputScaling : IInputPreprocessing
{
    // Made once: TorchSharp frees a Scalar only when it is disposed or finalised.
    private readonly Scalar _scale;
    private readonly Scalar _mean;
    private readonly Scalar _standardDeviation;

    /// <summary>Creates the preprocessing.</summary>
    /// <param name="scale">Factor applied first; finite and non-zero.</param>
    /// <param name="mean">Subtracted after scaling; finite.</param>
    /// <param name="standardDeviation">Divided by last; finite and positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public InputScaling(float scale = 1f, float mean = 0f, float standardDeviation = 1f)
    {
        if (!float.IsFinite(scale) || scale == 0f)
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale must be finite and non-zero.");
        if (!float.IsFinite(mean))
            throw new ArgumentOutOfRangeException(nameof(mean), mean, "The mean must be finite.");
        if (!float.IsFinite(standardDeviation) || standardDeviation <= 0f)
            throw new ArgumentOutOfRangeException(nameof(standardDeviation), standardDeviation, "The standard deviation must be finite and positive.");
        Scale = scale;
        Mean = mean;
        StandardDeviation = standardDeviation;
        _scale = scale.ToScalar();
        _mean = mean.ToScalar();
        _standardDeviation = standardDeviation.ToScalar();
    }

    /// <summary>Inputs used as they are.</summary>
    public static InputScaling Identity { get; } = new();

    /// <summary>Factor applied first.</summary>
    public float Scale { get; }

    /// <summary>Subtracted after scaling.</summary>
    public float Mean { get; }

    /// <summary>Divided by last.</summary>
    public float StandardDeviation { get; }

    /// <summary>True when only the scale acts (mean 0, standard deviation 1).</summary>
    internal bool IsScaleOnly => Mean == 0f && StandardDeviation == 1f;

    /// <inheritdoc />
    public Tensor Apply(Tensor inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return ApplyToStored(inputs);
    }

    /// <summary>
    /// Applies the preprocessing to rows of any real dtype in as few passes as it can: an integer tensor times a
    /// floating-point Scalar is float32, so conversion and scaling are one operation.
    /// </summary>
    internal Tensor ApplyToStored(Tensor rows)
    {
        // Other floating-point dtypes (float64, half) would keep their dtype through the multiply: convert first.
        if (rows.is_floating_point() && rows.dtype != ScalarType.Float32)
        {
            using var floats = rows.to_type(ScalarType.Float32);
            return ApplyToStored(floats);
        }

        if (rows.dtype != ScalarType.Float32 && Scale == 1f)
            return Finish(rows.to_type(ScalarType.Float32));
        return Finish(Scale == 1f ? rows.alias() : rows.mul(_scale));
    }

    private Tensor Finish(Tensor scaled)
    {
        if (IsScaleOnly)
            return scaled;
        using (scaled)
        {
            using var centred = scaled.sub(_mean);
            return centred.div(_standardDeviation);
        }
    }

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant($"InputScaling(scale={Scale}, mean={Mean}, std={StandardDeviation})");

    /// <summary>How this preprocessing is saved with a model: its three numbers.</summary>
    private sealed class Format : NumericPartFormat<InputScaling>
    {
        public override string Name => nameof(InputScaling);

        protected override IReadOnlyDictionary<string, double> Describe(InputScaling part) =>
            new Dictionary<string, double> { ["scale"] = part.Scale, ["mean"] = part.Mean, ["std"] = part.StandardDeviation };

        protected override InputScaling Create(NumericSettings settings) =>
            new((float)settings.Get("scale"), (float)settings.Get("mean"), (float)settings.Get("std"));
    }
}
