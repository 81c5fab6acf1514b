using System.Collections.Generic;
using System;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Distances;

/// <summary>
/// Euclidean distance with a floor under the square root: <c>d(a, b) = sqrt(max(Σ (a_k − b_k)², floor))</c>.
/// </summary>
/// <remarks>
/// The floor (default 1e-7, as in the Keras reference) keeps the gradient of the square root finite when
/// <c>a == b</c>: without it the gradient at distance 0 is 0/0 and training turns to NaN.
/// Distances below <c>sqrt(floor)</c> are reported as <c>sqrt(floor)</c>. Stateless and thread-safe.
/// </remarks>
public sealed class EuclideanDistance : IDistance
{
    /// <summary>The floor of the reference experiment (Keras' epsilon).</summary>
    public const double DefaultFloor = 1e-7;

    /// <summary>Creates the distance.</summary>
    /// <param name="floor">Smallest squared distance passed to the square root; positive and finite.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="floor"/> is not positive and finite.</exception>
    public EuclideanDistance(double floor = DefaultFloor)
    {
        if (!double.IsFinite(floor) || floor <= 0)
            throw new ArgumentOutOfRangeException(nameof(floor), floor, "The floor under the square root must be positive and finite.");
        Floor = floor;
        _sqrtFloor = Math.Sqrt(floor).ToScalar();
        _floor = floor.ToScalar();
    }

    // Made once: a Scalar per call would hold native memory until the next garbage collection.
    private readonly Scalar _sqrtFloor;
    private readonly Scalar _floor;
    private readonly SquaredEuclideanDistance _squared = new();

    /// <summary>Smallest squared distance passed to the square root.</summary>
    public double Floor { get; }

    /// <inheritdoc />
    public Tensor Compute(Tensor first, Tensor second)
    {
        TensorChecks.EmbeddingBatches(first, nameof(first), second, nameof(second), rowWise: true);
        // sqrt(max(s, floor)) == max(sqrt(s), sqrt(floor)), and both have zero gradient below the floor, so the
        // norm kernel gives the same function and gradient in three operations instead of five.
        using var difference = first - second;
        using var norm = difference.norm(1);
        return norm.clamp_min(_sqrtFloor);
    }

    /// <inheritdoc />
    public Tensor ComputeMatrix(Tensor queries, Tensor references)
    {
        // The squared matrix checks the arguments and uses one matrix product.
        using var squared = _squared.ComputeMatrix(queries, references);
        using var floored = squared.clamp_min(_floor);
        return floored.sqrt();
    }

    /// <inheritdoc />
    public bool TryComputeMatrix(Tensor queries, Tensor references, Tensor output)
    {
        if (!_squared.TryComputeMatrix(queries, references, output))
            return false;
        using var noGrad = no_grad();
        output.clamp_min_(_floor).sqrt_();
        return true;
    }

    /// <summary>How this distance is saved with a model or index: its name and settings.</summary>
    private sealed class Format : NumericPartFormat<EuclideanDistance>
    {
        public override string Name => nameof(EuclideanDistance);

        protected override IReadOnlyDictionary<string, double> Describe(EuclideanDistance part) => new Dictionary<string, double> { ["floor"] = part.Floor };

        protected override EuclideanDistance Create(NumericSettings settings) => new(settings.Get("floor"));
    }
}
