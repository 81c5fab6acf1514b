using System;

namespace MetricLearning.Data;

/// <summary>Inputs and the pairs drawn from them: what a Siamese model trains or is evaluated on.</summary>
/// <remarks>Does not own <see cref="Inputs"/>; dispose the <see cref="InputSet"/> yourself.</remarks>
public sealed class PairDataset
{
    /// <summary>Combines inputs and pairs, checking that every pair index names an input.</summary>
    /// <param name="inputs">The inputs the pairs index into.</param>
    /// <param name="pairs">The pairs; at least one.</param>
    /// <exception cref="ArgumentException">There are no pairs, or a pair refers to an input that does not exist.</exception>
    public PairDataset(InputSet inputs, PairSet pairs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Count == 0)
            throw new ArgumentException("A pair dataset needs at least one pair.", nameof(pairs));
        if (pairs.MaxIndex >= inputs.Count)
            throw new ArgumentException(
                $"A pair refers to input {pairs.MaxIndex}, but the input set holds only {inputs.Count} inputs.", nameof(pairs));
        Inputs = inputs;
        Pairs = pairs;
    }

    /// <summary>The inputs.</summary>
    public InputSet Inputs { get; }

    /// <summary>The pairs, as indices into <see cref="Inputs"/>.</summary>
    public PairSet Pairs { get; }
}
