using System;
using static TorchSharp.torch;

namespace MetricLearning.Data;

/// <summary>A <see cref="PairSet"/> as three tensors on one device, made once and indexed per batch.</summary>
internal sealed class PairTensors : IDisposable
{
    private PairTensors(Tensor first, Tensor second, Tensor same)
    {
        First = first.DetachFromDisposeScope();
        Second = second.DetachFromDisposeScope();
        Same = same.DetachFromDisposeScope();
    }

    internal PairTensors(PairSet pairs, Device device)
    {
        var first = new long[pairs.Count];
        var second = new long[pairs.Count];
        var same = new float[pairs.Count];
        for (int i = 0; i < pairs.Count; i++)
        {
            first[i] = pairs.First[i];
            second[i] = pairs.Second[i];
            same[i] = pairs.IsSame[i] ? 1f : 0f;
        }

        First = tensor(first, device: device).DetachFromDisposeScope();
        Second = tensor(second, device: device).DetachFromDisposeScope();
        Same = tensor(same, device: device).DetachFromDisposeScope();
    }

    /// <summary>Index of each pair's first input, int64 <c>[P]</c>.</summary>
    internal Tensor First { get; }

    /// <summary>Index of each pair's second input, int64 <c>[P]</c>.</summary>
    internal Tensor Second { get; }

    /// <summary>1 for a same-class pair, 0 otherwise, float32 <c>[P]</c>.</summary>
    internal Tensor Same { get; }

    /// <summary>
    /// The input indices of pairs <c>start..start+length−1</c> as one stacked batch: first inputs, then second inputs.
    /// </summary>
    internal Tensor StackedIndices(long start, long length) =>
        cat(new[] { First.narrow(0, start, length), Second.narrow(0, start, length) }, 0);

    /// <summary>The same pairs in another order, as new tensors.</summary>
    internal PairTensors Permute(Tensor order) =>
        new(First.index_select(0, order), Second.index_select(0, order), Same.index_select(0, order));

    public void Dispose()
    {
        First.Dispose();
        Second.Dispose();
        Same.Dispose();
    }
}
