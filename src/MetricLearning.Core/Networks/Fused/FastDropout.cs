using System;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Networks;

/// <summary>
/// Inverted dropout (as <c>torch.nn.Dropout</c>): in training mode each element is zeroed with probability
/// <c>p</c> and the survivors are scaled by <c>1/(1 − p)</c>; in evaluation mode the input passes unchanged.
/// </summary>
/// <remarks>
/// <para>
/// Why not <c>nn.Dropout</c>: on CPUs other than Intel's, libtorch draws dropout masks one element at a time from
/// a locked Mersenne Twister, which measured 213-258 µs for a 256×128 activation (on one or two threads), twice the
/// 128×128 layer's own matrix product. This module draws CPU masks from xoshiro256** in managed code (67-76 µs for
/// the same activation, mask and multiply included), seeded for every call from torch's global generator, so
/// <c>torch.manual_seed</c> still makes runs reproducible. On other devices or dtypes it calls torch's own fused dropout.
/// </para>
/// <para>
/// A drop happens when a 32-bit uniform draw is below <c>round(p·2³²)</c>, so the drop probability equals
/// <c>p</c> to within 2⁻³³.
/// </para>
/// </remarks>
internal sealed class FastDropout : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    /// <param name="probability">Probability of zeroing an element, in [0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="probability"/> is outside [0, 1).</exception>
    public FastDropout(double probability)
        : base(nameof(FastDropout))
    {
        if (!double.IsFinite(probability) || probability < 0 || probability >= 1)
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "The dropout probability must be in [0, 1).");
        Probability = probability;
    }

    /// <summary>Probability of zeroing an element.</summary>
    public double Probability { get; }

    /// <summary>Applies dropout in training mode; returns an alias of the input otherwise.</summary>
    /// <param name="input">Any floating-point tensor.</param>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!training || Probability == 0)
            return input.alias();
        if (input.device_type != DeviceType.CPU || input.dtype != ScalarType.Float32)
            return nn.functional.dropout(input, Probability, training: true);

        using var mask = empty_like(input, requires_grad: false);
        using var draw = randint(long.MaxValue, new long[] { 1 }, dtype: ScalarType.Int64);
        ulong seed = (ulong)draw.item<long>();
        FillMask(MemoryMarshal.Cast<byte, float>(mask.bytes), Probability, seed);
        return input.mul(mask);
    }

    /// <summary>Writes 0 (dropped) or <c>1/(1 − p)</c> (kept) into every element of <paramref name="mask"/>.</summary>
    internal static void FillMask(Span<float> mask, double probability, ulong seed)
    {
        uint threshold = (uint)Math.Min(Math.Round(probability * 4294967296.0), uint.MaxValue);
        float keep = (float)(1.0 / (1.0 - probability));
        var random = new Xoshiro256StarStar(seed);
        int i = 0;
        for (; i + 1 < mask.Length; i += 2)
        {
            ulong bits = random.Next();
            mask[i] = (uint)bits < threshold ? 0f : keep;
            mask[i + 1] = (uint)(bits >> 32) < threshold ? 0f : keep;
        }

        if (i < mask.Length)
            mask[i] = (uint)random.Next() < threshold ? 0f : keep;
    }

    /// <summary>xoshiro256** (Blackman and Vigna), seeded through SplitMix64 as its authors recommend.</summary>
    private struct Xoshiro256StarStar
    {
        private ulong _s0, _s1, _s2, _s3;

        internal Xoshiro256StarStar(ulong seed)
        {
            _s0 = SplitMix(ref seed);
            _s1 = SplitMix(ref seed);
            _s2 = SplitMix(ref seed);
            _s3 = SplitMix(ref seed);
        }

        internal ulong Next()
        {
            ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
            ulong t = _s1 << 17;
            _s2 ^= _s0;
            _s3 ^= _s1;
            _s1 ^= _s2;
            _s0 ^= _s3;
            _s2 ^= t;
            _s3 = ulong.RotateLeft(_s3, 45);
            return result;
        }

        private static ulong SplitMix(ref ulong state)
        {
            ulong z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
