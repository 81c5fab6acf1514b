using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace MetricLearning.Data;

/// <summary>
/// Per-channel input preprocessing for images <c>[N, C, ...]</c>:
/// <c>x'[n, c, ...] = (x[n, c, ...] · Scale − Mean[c]) / StandardDeviation[c]</c>. Pixels 0 to 255 are read with
/// <c>Scale = 1/255</c> and the mean and standard deviation of each channel in [0, 1] units, as torchvision's
/// <c>Normalize</c> takes them.
/// </summary>
/// <remarks>
/// Saved with a model by its numbers, so that a loaded model normalises raw pixels as training did. Immutable and
/// thread-safe; it keeps its per-channel constants on each device it has been applied on (a few floats each). <see cref="ImageNet"/> is what PyTorch's pretrained ResNets expect; <see cref="Measure(Tensor, float)"/> computes the
/// statistics of your own training images.
/// </remarks>
public sealed class ChannelNormalization : IInputPreprocessing
{
    private readonly float[] _mean;
    private readonly float[] _standardDeviation;
    // (x · s − m) / d folded into x · factor − shift, per channel; made once per device, not on every batch.
    private readonly Dictionary<string, (Tensor Factor, Tensor Shift)> _onDevice = new();

    /// <summary>Creates the preprocessing.</summary>
    /// <param name="scale">Factor applied first; finite and non-zero (1/255 for bytes).</param>
    /// <param name="mean">Each channel's mean, subtracted after scaling; 1 to 4,096 finite values.</param>
    /// <param name="standardDeviation">Each channel's standard deviation, divided by last; as many as <paramref name="mean"/>, finite and positive.</param>
    /// <exception cref="ArgumentException">The lists are empty, too long, or of different lengths.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public ChannelNormalization(float scale, IReadOnlyList<float> mean, IReadOnlyList<float> standardDeviation)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(standardDeviation);
        if (!float.IsFinite(scale) || scale == 0f)
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale must be finite and non-zero.");
        if (mean.Count is 0 or > 4096)
            throw new ArgumentException($"There must be between 1 and 4,096 channel means; got {mean.Count}.", nameof(mean));
        if (standardDeviation.Count != mean.Count)
            throw new ArgumentException($"There are {mean.Count} channel means but {standardDeviation.Count} standard deviations.", nameof(standardDeviation));
        for (int c = 0; c < mean.Count; c++)
        {
            if (!float.IsFinite(mean[c]))
                throw new ArgumentOutOfRangeException(nameof(mean), mean[c], $"The mean of channel {c} must be finite.");
            if (!float.IsFinite(standardDeviation[c]) || standardDeviation[c] <= 0f)
                throw new ArgumentOutOfRangeException(nameof(standardDeviation), standardDeviation[c], $"The standard deviation of channel {c} must be finite and positive.");
        }

        Scale = scale;
        _mean = mean.ToArray();
        _standardDeviation = standardDeviation.ToArray();
    }

    /// <summary>
    /// ImageNet's statistics for RGB bytes (scale 1/255, mean 0.485, 0.456, 0.406, standard deviation 0.229, 0.224,
    /// 0.225): what torchvision's pretrained weights were trained with.
    /// </summary>
    public static ChannelNormalization ImageNet { get; } = new(1f / 255f, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>Factor applied first.</summary>
    public float Scale { get; }

    /// <summary>Each channel's mean, subtracted after scaling.</summary>
    public IReadOnlyList<float> Mean => _mean;

    /// <summary>Each channel's standard deviation, divided by last.</summary>
    public IReadOnlyList<float> StandardDeviation => _standardDeviation;

    /// <summary>How many channels the inputs must have.</summary>
    public int Channels => _mean.Length;

    /// <summary>
    /// Measures each channel's mean and standard deviation of <c>raw · scale</c> over a set of images, such as the
    /// training set, in float64, a slice of images at a time.
    /// </summary>
    /// <param name="images">Raw images <c>[N, C, ...]</c> of any real dtype (bytes, say), at least one.</param>
    /// <param name="scale">The factor raw values are read with (1/255 for bytes).</param>
    /// <returns>The normalisation that brings each channel of these images to mean 0 and standard deviation 1.</returns>
    /// <exception cref="ArgumentException">There are no images, they have no channel dimension, or a channel is constant.</exception>
    public static ChannelNormalization Measure(Tensor images, float scale = 1f / 255f)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() < 2 || images.shape[0] == 0 || images.shape[1] is < 1 or > 4096 || images.numel() == 0)
            throw new ArgumentException($"Measuring needs at least one image of shape [C, ...] with 1 to 4,096 channels; got {TensorChecks.Shape(images)}.", nameof(images));
        var sum = new double[images.shape[1]];
        var squares = new double[images.shape[1]];
        Accumulate(images, scale, sum, squares);
        return Finish(sum, squares, images.numel() / images.shape[1], scale, nameof(images));
    }

    /// <summary>Adds each channel's sum and sum of squares of <c>images · scale</c>, in float64, 1,024 images at a time.</summary>
    private static void Accumulate(Tensor images, float scale, double[] sum, double[] squares)
    {
        long channels = images.shape[1];
        const long slice = 1024;
        for (long start = 0; start < images.shape[0]; start += slice)
        {
            using var scope = NewDisposeScope();
            var part = images.narrow(0, start, Math.Min(slice, images.shape[0] - start)).to_type(ScalarType.Float64).mul(scale);
            var byChannel = part.transpose(0, 1).reshape(channels, -1);
            var sums = byChannel.sum(1).cpu().data<double>().ToArray();
            var sumSquares = byChannel.square().sum(1).cpu().data<double>().ToArray();
            for (int c = 0; c < channels; c++)
            {
                sum[c] += sums[c];
                squares[c] += sumSquares[c];
            }
        }
    }

    private static ChannelNormalization Finish(double[] sum, double[] squares, long perChannel, float scale, string parameter)
    {
        var mean = new float[sum.Length];
        var deviation = new float[sum.Length];
        for (int c = 0; c < sum.Length; c++)
        {
            double m = sum[c] / perChannel;
            double variance = Math.Max(squares[c] / perChannel - m * m, 0);
            if (variance <= 1e-12)
                throw new ArgumentException($"Channel {c} of the images is constant; it cannot be normalised.", parameter);
            mean[c] = (float)m;
            deviation[c] = (float)Math.Sqrt(variance);
        }

        return new ChannelNormalization(scale, mean, deviation);
    }

    /// <summary>Measures each channel's statistics over every input of a source, reading 1,024 at a time.</summary>
    /// <param name="source">Raw images <c>[C, ...]</c> each, at least one.</param>
    /// <param name="scale">The factor raw values are read with (1/255 for bytes).</param>
    /// <returns>The normalisation that brings each channel of these images to mean 0 and standard deviation 1.</returns>
    /// <exception cref="ArgumentException">The source is empty, its inputs have no channel dimension, or a channel is constant.</exception>
    public static ChannelNormalization Measure(ILabelledSource source, float scale = 1f / 255f)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Count == 0 || source.InputShape.Count < 1 || source.InputShape[0] is < 1 or > 4096 || source.InputShape.Any(size => size < 1))
            throw new ArgumentException($"Measuring needs a source of at least one image of shape [C, ...] with 1 to 4,096 channels; got {source.Count} of [{string.Join(", ", source.InputShape)}].", nameof(source));
        long channels = source.InputShape[0];
        var sum = new double[channels];
        var squares = new double[channels];
        long perChannel = 0;
        for (int start = 0; start < source.Count; start += 1024)
        {
            using var part = source.Read(Enumerable.Range(start, Math.Min(1024, source.Count - start)).ToArray());
            Accumulate(part, scale, sum, squares);
            perChannel += part.numel() / channels;
        }

        return Finish(sum, squares, perChannel, scale, nameof(source));
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The inputs are not <c>[N, Channels, ...]</c>.</exception>
    public Tensor Apply(Tensor inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.dim() < 2 || inputs.shape[1] != Channels)
            throw new ArgumentException($"The normalisation has {Channels} channel(s) and expects inputs [N, {Channels}, ...]; got {TensorChecks.Shape(inputs)}.", nameof(inputs));

        using var scope = NewDisposeScope();
        var broadcast = new long[inputs.dim()];
        Array.Fill(broadcast, 1L);
        broadcast[1] = Channels;
        var (factor, shift) = Constants(inputs.device);
        var floats = inputs.dtype == ScalarType.Float32 ? inputs : inputs.to_type(ScalarType.Float32);
        return floats.mul(factor.view(broadcast)).sub_(shift.view(broadcast)).MoveToOuterDisposeScope();
    }

    /// <summary>The per-channel factor and shift on <paramref name="device"/>, made on first use there and kept.</summary>
    private (Tensor Factor, Tensor Shift) Constants(Device device)
    {
        lock (_onDevice)
        {
            string key = device.ToString();
            if (!_onDevice.TryGetValue(key, out var constants))
            {
                constants = (
                    tensor(_standardDeviation.Select(d => Scale / d).ToArray(), device: device).DetachFromDisposeScope(),
                    tensor(_mean.Select((m, c) => m / _standardDeviation[c]).ToArray(), device: device).DetachFromDisposeScope());
                _onDevice[key] = constants;
            }

            return constants;
        }
    }

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant(
        $"ChannelNormalization(scale={Scale}, mean=[{string.Join(", ", _mean)}], std=[{string.Join(", ", _standardDeviation)}])");

    /// <summary>How this preprocessing is saved with a model: the scale, the channel count, each channel's mean and deviation.</summary>
    private sealed class Format : NumericPartFormat<ChannelNormalization>
    {
        public override string Name => nameof(ChannelNormalization);

        protected override IReadOnlyDictionary<string, double> Describe(ChannelNormalization part)
        {
            var settings = new Dictionary<string, double> { ["scale"] = part.Scale, ["channels"] = part.Channels };
            for (int c = 0; c < part.Channels; c++)
            {
                settings[$"mean{c}"] = part.Mean[c];
                settings[$"std{c}"] = part.StandardDeviation[c];
            }

            return settings;
        }

        protected override ChannelNormalization Create(NumericSettings settings)
        {
            double channels = settings.Get("channels");
            if (channels is < 1 or > 4096 || channels != Math.Floor(channels))
                throw new System.IO.InvalidDataException($"'{settings.Source}': the channel normalisation's channel count {channels} is not a whole number from 1 to 4,096.");
            var mean = new float[(int)channels];
            var deviation = new float[(int)channels];
            for (int c = 0; c < mean.Length; c++)
            {
                mean[c] = (float)settings.Get($"mean{c}");
                deviation[c] = (float)settings.Get($"std{c}");
            }

            return new ChannelNormalization((float)settings.Get("scale"), mean, deviation);
        }
    }
}
