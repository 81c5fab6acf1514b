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

    internal static float[] Values(Tensor t) => t.detach().cpu().contiguous().data<float>().ToArray();
}
