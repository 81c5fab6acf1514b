using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace MetricLearning.Reducers;

/// <summary>
/// The mean of the values that count, each multiplied by the weight of its anchor's class (of its own class for
/// class values): pytorch-metric-learning's <c>ClassWeightedReducer</c>, for imbalanced classes.
/// </summary>
/// <remarks>Labels must be class numbers below the number of weights (checked each call, which reads the labels' range from the device). Stateless and thread-safe.</remarks>
public sealed class ClassWeightedReducer : IReducer
{
    private readonly double[] _weights;

    /// <summary>Creates the reducer.</summary>
    /// <param name="weights">One weight per class, finite and at least 0; class c's weight is <c>weights[c]</c>.</param>
    /// <exception cref="ArgumentException">There are no weights, or one is negative or not finite.</exception>
    public ClassWeightedReducer(IEnumerable<double> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        _weights = weights.ToArray();
        if (_weights.Length == 0)
            throw new ArgumentException("A class-weighted reducer needs one weight per class; none were given.", nameof(weights));
        for (int c = 0; c < _weights.Length; c++)
        {
            if (!double.IsFinite(_weights[c]) || _weights[c] < 0)
                throw new ArgumentOutOfRangeException(nameof(weights), _weights[c], $"The weight of class {c} must be finite and at least 0.");
        }
    }

    /// <summary>One weight per class.</summary>
    public IReadOnlyList<double> Weights => _weights;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">A label (or class) is outside the weights.</exception>
    public Tensor Reduce(LossTerms terms, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(terms);
        ArgumentNullException.ThrowIfNull(labels);
        if (terms.Kind == LossTermKind.AlreadyReduced)
            return terms.Values.alias();
        using var scope = NewDisposeScope();
        var anchors = terms.AnchorsOfValues();
        var classes = terms.Kind == LossTermKind.Class ? anchors : labels.to_type(ScalarType.Int64).index_select(0, anchors.flatten()).view(anchors.shape);
        if (classes.numel() > 0)
        {
            var (min, max) = TensorChecks.Range(classes);
            if (min < 0 || max >= _weights.Length)
                throw new ArgumentException($"Class {(min < 0 ? min : max)} has no weight: the class-weighted reducer has {_weights.Length} (classes 0 to {_weights.Length - 1}).", nameof(labels));
        }

        var table = tensor(_weights, dtype: ScalarType.Float64, device: terms.Values.device).to_type(terms.Values.dtype);
        var weighted = terms.ValidValues() * table.index_select(0, classes.flatten()).view(classes.shape);
        var count = terms.ValidWeights().sum();
        return (weighted.sum() / count.clamp_min(1)).MoveToOuterDisposeScope();
    }
}
