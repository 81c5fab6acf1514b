using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Mining;

/// <summary>
/// The random draws of a sampling miner: a torch <see cref="Generator"/> of its own (never the global one), on the CPU
/// so that a seed draws the same on every device, seeded from (seed, epoch) by <see cref="BeginEpoch"/>. Calls are
/// serialised by a lock, so concurrent use does not corrupt the generator, but what each call draws then depends on
/// the order of the calls.
/// <para>
/// Its state (the generator's state after the last draw, and the epoch it was seeded for) is kept in two tensors that
/// a trainer saves in checkpoints (<see cref="ITrainingState"/>) and restores in place: the next draw starts from the
/// restored state, and <see cref="BeginEpoch"/> for the epoch already recorded does not reseed, so a run resumed in
/// the middle of an epoch draws what the uninterrupted run drew.
/// </para>
/// </summary>
internal sealed class SeededDraws
{
    private readonly object _gate = new();
    private readonly Generator _generator;
    private readonly Tensor _state;
    private readonly Tensor _epoch;

    internal SeededDraws(long seed)
    {
        Seed = seed;
        _generator = new Generator(Mix(seed, 0));
        using var scope = NewDisposeScope();
        _state = _generator.get_state().clone().DetachFromDisposeScope();
        _epoch = zeros(1, dtype: ScalarType.Int64).DetachFromDisposeScope();
    }

    internal long Seed { get; }

    /// <summary>The generator's state and the epoch it was seeded for, for checkpoints.</summary>
    internal IReadOnlyList<KeyValuePair<string, Tensor>> State => new[]
    {
        new KeyValuePair<string, Tensor>("generator", _state),
        new KeyValuePair<string, Tensor>("epoch", _epoch),
    };

    /// <summary>
    /// Reseeds from (seed, epoch): whatever was drawn before, the epoch's draws are then always the same. For the epoch
    /// the state already records (a run resumed within it), the state is kept.
    /// </summary>
    internal void BeginEpoch(int epoch)
    {
        lock (_gate)
        {
            if (_epoch.item<long>() == epoch)
                return;
            using var fresh = new Generator(Mix(Seed, epoch));
            using var state = fresh.get_state();
            _state.copy_(state);
            _epoch.fill_(epoch);
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
        {
            // The state tensor is the truth (a checkpoint may have restored it): draw from it, then record where it got to.
            _generator.set_state(_state);
            drawn = multinomial(onCpu, samples, replacement: true, generator: _generator);
            using var after = _generator.get_state();
            _state.copy_(after);
        }
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
