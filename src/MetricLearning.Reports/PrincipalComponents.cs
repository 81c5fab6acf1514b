using System;
using static TorchSharp.torch;

namespace MetricLearning.Reports;

/// <summary>Projects embeddings onto their first principal components (PCA), computed with torch.</summary>
internal static class PrincipalComponents
{
    /// <summary>The rows of <paramref name="embeddings"/> <c>[N, D]</c> projected onto the two directions of greatest variance, <c>[N][2]</c>.</summary>
    internal static (double[] X, double[] Y) Project2D(Tensor embeddings)
    {
        if (embeddings.dim() != 2 || embeddings.shape[0] < 2 || embeddings.shape[1] < 2)
            throw new ArgumentException($"A projection needs at least two embeddings of at least two dimensions; got [{string.Join(", ", embeddings.shape)}].", nameof(embeddings));
        using var scope = NewDisposeScope();
        var data = embeddings.detach().to(ScalarType.Float64).cpu();
        var centred = data - data.mean(new long[] { 0 }, keepdim: true);
        var covariance = centred.t().matmul(centred) / (data.shape[0] - 1);
        var (_, vectors) = linalg.eigh(covariance);
        // eigh sorts eigenvalues in ascending order: the last two columns are the principal directions.
        long d = vectors.shape[1];
        var projected = centred.matmul(vectors.narrow(1, d - 2, 2).flip(1)).contiguous();
        var values = projected.data<double>().ToArray();
        var x = new double[data.shape[0]];
        var y = new double[data.shape[0]];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = values[2 * i];
            y[i] = values[2 * i + 1];
        }

        return (x, y);
    }
}
