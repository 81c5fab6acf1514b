using System;
using System.Linq;
using static TorchSharp.torch;

namespace MetricLearning;

/// <summary>Argument checks on tensors, done in managed code so that bad input never reaches native code.</summary>
internal static class TensorChecks
{
    internal static string Shape(Tensor tensor) => "[" + string.Join(", ", tensor.shape) + "]";

    internal static void Rank(Tensor tensor, int rank, string name)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        if (tensor.dim() != rank)
            throw new ArgumentException($"'{name}' must have {rank} dimension(s); its shape is {Shape(tensor)}.", name);
    }

    internal static void FloatingPoint(Tensor tensor, string name)
    {
        if (!tensor.is_floating_point())
            throw new ArgumentException($"'{name}' must be a floating-point tensor; its dtype is {tensor.dtype}.", name);
    }

    internal static void SameDevice(Tensor first, string firstName, Tensor second, string secondName)
    {
        if (first.device.type != second.device.type || first.device.index != second.device.index)
            throw new ArgumentException(
                $"'{firstName}' is on {first.device} but '{secondName}' is on {second.device}; move both to one device.", secondName);
    }

    /// <summary>Checks two embedding batches: 2-D, floating point, one device; same shape for row-wise use, same width for matrices.</summary>
    internal static void EmbeddingBatches(Tensor first, string firstName, Tensor second, string secondName, bool rowWise)
    {
        Rank(first, 2, firstName);
        Rank(second, 2, secondName);
        FloatingPoint(first, firstName);
        FloatingPoint(second, secondName);
        SameDevice(first, firstName, second, secondName);
        if (rowWise)
            SameShape(first, firstName, second, secondName);
        else if (first.shape[1] != second.shape[1])
            throw new ArgumentException(
                $"'{firstName}' and '{secondName}' must have the same embedding size; got {Shape(first)} and {Shape(second)}.", secondName);
    }

    /// <summary>Checks the arguments of <see cref="IDistance.TryComputeMatrix"/>: two embedding batches and an output of shape <c>[N, M]</c>, contiguous, their dtype and device.</summary>
    internal static void MatrixOutput(Tensor queries, Tensor references, Tensor output)
    {
        EmbeddingBatches(queries, nameof(queries), references, nameof(references), rowWise: false);
        Rank(output, 2, nameof(output));
        SameDevice(queries, nameof(queries), output, nameof(output));
        if (output.shape[0] != queries.shape[0] || output.shape[1] != references.shape[0])
            throw new ArgumentException(
                $"'output' must have shape [{queries.shape[0]}, {references.shape[0]}] (queries by references); its shape is {Shape(output)}.", nameof(output));
        if (output.dtype != queries.dtype)
            throw new ArgumentException($"'output' must have the queries' dtype {queries.dtype}; its dtype is {output.dtype}.", nameof(output));
        if (!output.is_contiguous())
            throw new ArgumentException("'output' must be contiguous.", nameof(output));
    }

    internal static void SameShape(Tensor first, string firstName, Tensor second, string secondName)
    {
        if (!first.shape.SequenceEqual(second.shape))
            throw new ArgumentException(
                $"'{firstName}' and '{secondName}' must have the same shape; got {Shape(first)} and {Shape(second)}.", secondName);
    }

    /// <summary>The smallest and largest value of an integer tensor, read from its device in one transfer.</summary>
    internal static (long Min, long Max) Range(Tensor values)
    {
        using var scope = NewDisposeScope();
        var ends = stack(new[] { values.min(), values.max() }).to_type(ScalarType.Int64).cpu().data<long>();
        return (ends[0], ends[1]);
    }
}
