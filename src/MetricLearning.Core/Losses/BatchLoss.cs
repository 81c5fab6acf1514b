using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// A batch loss computed as pytorch-metric-learning computes its losses: the loss gives one or more sub-losses of
/// per-element values (<see cref="ComputeTerms"/>: per pair, per triplet, per anchor or per class), its
/// <see cref="Reducer"/> turns each into a number, the numbers are added, and optional regularizers on the embeddings
/// and on the loss's own class vectors are added to that.
/// </summary>
/// <remarks>
/// <para>
/// Derive from it to write a loss that works with every reducer and regularizer: implement
/// <see cref="ComputeTerms"/>, and pass the loss's default reducer to the constructor. <see cref="ComputeTerms"/> is
/// also how users get the values unreduced.
/// </para>
/// <para>
/// Thread-safety is the derived loss's: stateless losses are thread-safe when their reducer and regularizers are.
/// </para>
/// </remarks>
public abstract class BatchLoss : IBatchLoss
{
    private readonly IRegularizer? _weightRegularizer;
    private readonly double _embeddingRegularizerWeight = 1;
    private readonly double _weightRegularizerWeight = 1;

    /// <summary>Sets the loss's reducer.</summary>
    /// <param name="reducer">How each sub-loss becomes a number.</param>
    protected BatchLoss(IReducer reducer)
    {
        ArgumentNullException.ThrowIfNull(reducer);
        Reducer = reducer;
    }

    /// <summary>How each sub-loss becomes a number.</summary>
    public IReducer Reducer { get; }

    /// <summary>A penalty on the batch's embeddings, added to the loss; null for none.</summary>
    public IRegularizer? EmbeddingRegularizer { get; init; }

    /// <summary>What <see cref="EmbeddingRegularizer"/>'s penalty is multiplied by; 1 by default.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a negative or non-finite number.</exception>
    public double EmbeddingRegularizerWeight
    {
        get => _embeddingRegularizerWeight;
        init => _embeddingRegularizerWeight = CheckWeight(value, nameof(EmbeddingRegularizerWeight));
    }

    /// <summary>
    /// A penalty on the loss's own class vectors (proxies, class centres), added to the loss; null for none. Only a
    /// loss with class vectors takes one.
    /// </summary>
    /// <exception cref="InvalidOperationException">Set on a loss without class vectors.</exception>
    public IRegularizer? WeightRegularizer
    {
        get => _weightRegularizer;
        init
        {
            if (value is not null && RegularizedWeights is null)
                throw new InvalidOperationException($"{GetType().Name} has no class vectors for a weight regularizer; attach it as an embedding regularizer instead.");
            _weightRegularizer = value;
        }
    }

    /// <summary>What <see cref="WeightRegularizer"/>'s penalty is multiplied by; 1 by default.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a negative or non-finite number.</exception>
    public double WeightRegularizerWeight
    {
        get => _weightRegularizerWeight;
        init => _weightRegularizerWeight = CheckWeight(value, nameof(WeightRegularizerWeight));
    }

    /// <summary>The loss's class vectors, one per row, that a <see cref="WeightRegularizer"/> penalises; null (the default) for a loss without any.</summary>
    protected virtual Tensor? RegularizedWeights => null;

    private static double CheckWeight(double value, string name) => double.IsFinite(value) && value >= 0
        ? value
        : throw new ArgumentOutOfRangeException(name, value, "A regularizer's weight must be finite and at least 0.");

    /// <summary>
    /// The loss's sub-losses before reduction ("no reduction"): their values, what each belongs to, and which count.
    /// Validates the batch first.
    /// </summary>
    /// <param name="embeddings">Shape <c>[N, D]</c>, floating point, N ≥ 2.</param>
    /// <param name="labels">Shape <c>[N]</c>, integer class labels on the same device.</param>
    /// <param name="mined">Pairs or triplets mined from this batch; null for every valid pair or triplet.</param>
    /// <returns>The sub-losses, their tensors in the caller's dispose scope; the regularizers are not among them.</returns>
    public abstract IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null);

    /// <inheritdoc />
    public Tensor Compute(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        using var scope = NewDisposeScope();
        return Reduce(ComputeTerms(embeddings, labels, mined), embeddings, labels).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Reduces each sub-loss, adds them, and adds the regularizers' penalties (the embedding regularizer's on
    /// <paramref name="embeddings"/>): the loss from its terms, in the caller's dispose scope.
    /// </summary>
    internal Tensor Reduce(IReadOnlyList<LossTerms> allTerms, Tensor embeddings, Tensor labels)
    {
        using var scope = NewDisposeScope();
        Tensor? total = null;
        foreach (var terms in allTerms)
        {
            var reduced = Reducer.Reduce(terms, labels);
            total = total is null ? reduced : total + reduced;
        }

        if (total is null)
            throw new InvalidOperationException($"{GetType().Name} gave no loss terms.");
        if (EmbeddingRegularizer is { } embeddingRegularizer)
            total = total + embeddingRegularizer.Compute(embeddings) * EmbeddingRegularizerWeight;
        if (_weightRegularizer is not null && RegularizedWeights is { } weights)
            total = total + _weightRegularizer.Compute(weights) * WeightRegularizerWeight;
        return total.MoveToOuterDisposeScope();
    }
}
