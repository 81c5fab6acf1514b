using System.Collections.Generic;
using System;
using static TorchSharp.torch;

namespace MetricLearning.Distances;

/// <summary>Minkowski (Lp) distance: <c>d(a, b) = (Σ |a_k − b_k|^p)^(1/p)</c>, p ≥ 1, optionally of L2-normalised embeddings.</summary>
/// <remarks>
/// p = 1 is the Manhattan distance, p = 2 the Euclidean distance (without <see cref="EuclideanDistance"/>'s floor:
/// its gradient at <c>a == b</c> is taken as 0). Stateless and thread-safe.
/// </remarks>
public sealed class LpDistance : IDistance
{
    /// <summary>Creates the distance.</summary>
    /// <param name="p">The order of the norm; finite and at least 1 (below 1 it is not a distance).</param>
    /// <param name="normalize">Whether to L2-normalise each embedding first.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is below 1 or not finite.</exception>
    public LpDistance(double p = 2.0, bool normalize = false)
    {
        if (!double.IsFinite(p) || p < 1)
            throw new ArgumentOutOfRangeException(nameof(p), p, "The order p of an Lp distance must be finite and at least 1.");
        P = p;
        Normalize = normalize;
    }

    /// <summary>The order of the norm.</summary>
    public double P { get; }

    /// <summary>Whether embeddings are L2-normalised first.</summary>
    public bool Normalize { get; }

    /// <inheritdoc />
    public Tensor Compute(Tensor first, Tensor second)
    {
        TensorChecks.EmbeddingBatches(first, nameof(first), second, nameof(second), rowWise: true);
        using var a = EmbeddingNormalization.MaybeNormalize(first, Normalize);
        using var b = EmbeddingNormalization.MaybeNormalize(second, Normalize);
        using var difference = a - b;
        return difference.norm(1, p: (float)P);
    }

    /// <inheritdoc />
    public Tensor ComputeMatrix(Tensor queries, Tensor references)
    {
        TensorChecks.EmbeddingBatches(queries, nameof(queries), references, nameof(references), rowWise: false);
        using var q = EmbeddingNormalization.MaybeNormalize(queries, Normalize);
        using var r = EmbeddingNormalization.MaybeNormalize(references, Normalize);
        return cdist(q, r, P);
    }

    /// <summary>How this distance is saved with a model or index: its name and settings.</summary>
    private sealed class Format : NumericPartFormat<LpDistance>
    {
        public override string Name => nameof(LpDistance);

        protected override IReadOnlyDictionary<string, double> Describe(LpDistance part) => new Dictionary<string, double> { ["p"] = part.P, ["normalize"] = part.Normalize ? 1 : 0 };

        protected override LpDistance Create(NumericSettings settings) => new(settings.Get("p"), settings.GetFlag("normalize"));
    }
}
