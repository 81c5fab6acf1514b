using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Mining;

/// <summary>
/// The random draws of a sampling miner: a torch <see cref="Generator"/> of its own (never the global one), on the CPU
/// so that a seed draws the same on every device, seeded from (seed, epoch) by <see cref="BeginEpoch"/>. Calls are
/// serialised by a lock, so concurrent use does not corrupt the generator, but what each call draws then depends on
/// the order of the calls.
/// </summary>
internal sealed class SeededDraws
{
    private readonly object _gate = new();
    private Generator _generator;

    internal SeededDraws(long seed)
    {
        Seed = seed;
        _generator = new Generator(Mix(seed, 0));
    }

    internal long Seed { get; }

    /// <summary>Reseeds from (seed, epoch): whatever was drawn before, the epoch's draws are then always the same.</summary>
    internal void BeginEpoch(int epoch)
    {
        lock (_gate)
        {
            var previous = _generator;
            _generator = new Generator(Mix(Seed, epoch));
            previous.Dispose();
        }
    }

    /// <summary>
    /// <paramref name="samples"/> draws with replacement from each row of non-negative <paramref name="weights"/>
    /// (every row with a positive sum), as int64 column numbers <c>[rows, samples]</c> on the weights' device. Call
    /// inside a dispose scope: the copies it makes are left to it.
    /// </summary>
    internal Tensor Multinomial(Tensor weights, long samples)
    {
        var onCpu = weights.to(ScalarType.Float64, CPU);
        Tensor drawn;
        lock (_gate)
            drawn = multinomial(onCpu, samples, replacement: true, generator: _generator);
        return drawn.to(weights.device);
    }

    /// <summary>SplitMix64 of the seed and the epoch: nearby seeds and epochs give unrelated generator seeds.</summary>
    private static ulong Mix(long seed, int epoch)
    {
        unchecked
        {
            ulong z = (ulong)seed + 0x9E3779B97F4A7C15UL * (ulong)(uint)(epoch + 1);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
