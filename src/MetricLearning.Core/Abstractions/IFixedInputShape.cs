using System.Collections.Generic;

namespace MetricLearning;

/// <summary>
/// An <see cref="IEmbeddingNetwork"/> whose architecture fixes the shape of one input (an MLP reads exactly its input
/// width). A model wrapping it takes that shape when none is given, and refuses a shape of another size.
/// </summary>
public interface IFixedInputShape
{
    /// <summary>The shape of one input, without the batch dimension.</summary>
    IReadOnlyList<long> InputShape { get; }
}
