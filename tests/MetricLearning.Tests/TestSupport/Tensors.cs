using System.Linq;
using static TorchSharp.torch;

namespace MetricLearning.Tests.TestSupport;

/// <summary>Small helpers to move values between tests and tensors.</summary>
internal static class Tensors
{
    internal static Tensor Rows(params float[][] rows)
    {
        var flat = rows.SelectMany(row => row).ToArray();
        return tensor(flat, new long[] { rows.Length, rows[0].Length });
    }

    internal static Tensor Rows(double[][] rows) => Rows(rows.Select(row => row.Select(v => (float)v).ToArray()).ToArray());

    internal static Tensor Vector(params float[] values) => tensor(values);

    /// <summary>True when both have the same shape and every element is equal (any dtype).</summary>
    internal static bool Identical(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype)
            return false;
        using var equal = a.eq(b);
        using var all = equal.all();
        return all.item<bool>();
    }

    internal static float[] Values(Tensor t) => t.detach().cpu().contiguous().data<float>().ToArray();
}
