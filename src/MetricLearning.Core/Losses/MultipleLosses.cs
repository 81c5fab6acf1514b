using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// A weighted sum of batch losses, each optionally with a miner of its own:
/// <c>L = Σ_k w_k · L_k(embeddings, labels, mined_k)</c>, where <c>mined_k</c> is what loss k's miner picked from the
/// batch, or, for a loss without a miner, the indices given to <see cref="Compute"/> (null for every pair or triplet).
/// pytorch-metric-learning's <c>MultipleLosses</c> (with a list of losses, not a dictionary).
/// </summary>
/// <remarks>
/// <para>
/// Weights default to 1 each, as pytorch-metric-learning's. As there, when any miner is given, the caller may not give
/// mined indices of its own. Each loss is reduced by its own reducer; there are no sub-losses of this wrapper, so it is
/// an <see cref="IBatchLoss"/>, not a <see cref="BatchLoss"/>.
/// </para>
/// <para>
/// Its trainable weights (<see cref="ParameterGroups"/>) are its losses' groups, in order, so a trainer trains every
/// loss's own weights (proxies, a learnt β). It owns its losses: disposing it disposes each one that is
/// <see cref="IDisposable"/>, once. Thread-safe when every loss and miner is.
/// </para>
/// </remarks>
public sealed class MultipleLosses : IBatchLoss, ITrainableParameters, ITrainingState, IEpochAware, IDisposable
{
    private readonly IBatchLoss[] _losses;
    private readonly double[] _weights;
    private readonly IMiner?[]? _miners;

    /// <summary>Creates the sum.</summary>
    /// <param name="losses">The losses; at least one, none null.</param>
    /// <param name="weights">What each loss is multiplied by, one per loss, finite; null for 1 each.</param>
    /// <param name="miners">A miner per loss (null entries for losses without one), one per loss; null for none.</param>
    /// <exception cref="ArgumentException">No losses, a null loss, or weights or miners not one per loss.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A weight is not finite.</exception>
    public MultipleLosses(IReadOnlyList<IBatchLoss> losses, IReadOnlyList<double>? weights = null, IReadOnlyList<IMiner?>? miners = null)
    {
        ArgumentNullException.ThrowIfNull(losses);
        if (losses.Count == 0)
            throw new ArgumentException("MultipleLosses needs at least one loss.", nameof(losses));
        if (losses.Any(loss => loss is null))
            throw new ArgumentException("MultipleLosses was given a null loss.", nameof(losses));
        if (weights is not null)
        {
            if (weights.Count != losses.Count)
                throw new ArgumentException($"There are {weights.Count} weights for {losses.Count} losses; give one per loss.", nameof(weights));
            for (int i = 0; i < weights.Count; i++)
            {
                if (!double.IsFinite(weights[i]))
                    throw new ArgumentOutOfRangeException(nameof(weights), weights[i], $"The weight of loss {i} must be finite.");
            }
        }

        if (miners is not null && miners.Count != losses.Count)
            throw new ArgumentException($"There are {miners.Count} miners for {losses.Count} losses; give one per loss (null for a loss without one).", nameof(miners));
        _losses = losses.ToArray();
        _weights = weights?.ToArray() ?? Enumerable.Repeat(1.0, losses.Count).ToArray();
        _miners = miners?.ToArray();
    }

    /// <summary>The losses, in order.</summary>
    public IReadOnlyList<IBatchLoss> Losses => _losses;

    /// <summary>What each loss is multiplied by.</summary>
    public IReadOnlyList<double> Weights => _weights;

    /// <summary>Each loss's miner (null where it has none); empty when no miners were given.</summary>
    public IReadOnlyList<IMiner?> Miners => _miners ?? Array.Empty<IMiner?>();

    /// <summary>The training state of the losses and miners that have one (<see cref="ITrainingState"/>), each name prefixed with its position, so that checkpoints keep it.</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>> TrainingState => Parts()
        .SelectMany((part, i) => part is ITrainingState state
            ? state.TrainingState.Select(entry => new KeyValuePair<string, Tensor>($"{i}/{part.GetType().Name}/{entry.Key}", entry.Value))
            : Enumerable.Empty<KeyValuePair<string, Tensor>>())
        .ToList();

    /// <summary>Tells the losses and miners that are <see cref="IEpochAware"/> that an epoch begins.</summary>
    /// <param name="epoch">The epoch about to run, from 1.</param>
    public void BeginEpoch(int epoch)
    {
        foreach (var part in Parts())
            (part as IEpochAware)?.BeginEpoch(epoch);
    }

    /// <summary>The distinct losses, then the distinct miners.</summary>
    private List<object> Parts() => _losses.Cast<object>().Concat((_miners ?? Array.Empty<IMiner?>()).Where(m => m is not null).Cast<object>())
        .Distinct(ReferenceEqualityComparer.Instance).Cast<object>().ToList();

    /// <summary>The trainable weights of every loss that has some (<see cref="ITrainableParameters"/>), in the losses' order.</summary>
    public IReadOnlyList<ParameterGroup> ParameterGroups =>
        _losses.OfType<ITrainableParameters>().SelectMany(loss => loss.ParameterGroups).ToList();

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Mined indices were given although this sum has miners of its own.</exception>
    public Tensor Compute(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(labels);
        if (mined is not null && _miners is not null)
            throw new ArgumentException("This MultipleLosses has miners of its own, so it takes no mined indices (as pytorch-metric-learning's).", nameof(mined));
        using var scope = NewDisposeScope();
        Tensor? total = null;
        for (int i = 0; i < _losses.Length; i++)
        {
            var miner = _miners?[i];
            using var ownMined = miner?.Mine(embeddings, labels);
            var value = _losses[i].Compute(embeddings, labels, ownMined ?? mined) * _weights[i];
            total = total is null ? value : total + value;
        }

        return total!.MoveToOuterDisposeScope();
    }

    /// <summary>Disposes every loss that is <see cref="IDisposable"/>, once each.</summary>
    public void Dispose()
    {
        foreach (var loss in _losses.Distinct(ReferenceEqualityComparer.Instance))
            (loss as IDisposable)?.Dispose();
    }
}
