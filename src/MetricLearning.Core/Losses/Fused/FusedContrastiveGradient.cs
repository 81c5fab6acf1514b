using System;
using MetricLearning.Distances;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// The <see cref="ContrastiveLoss"/>'s hand-written value and gradient at the <see cref="EuclideanDistance"/>, float32
/// on the CPU: the distance, the loss and its gradient with respect to both embeddings of every pair in one managed
/// pass over the pairs, in closed form.
/// </summary>
/// <remarks>
/// Why: at the reference experiment's size the autograd step's distance and loss were a dozen small kernels and their
/// backward passes, each with its allocations; here they are one pass over memory the network's pass just wrote. The
/// same loss and gradients as autograd's (checked in the tests). Not thread-safe.
/// </remarks>
internal sealed class FusedContrastiveGradient : IFusedPairGradient
{
    private readonly float _margin;
    private readonly float _sqrtFloor;

    internal FusedContrastiveGradient(ContrastiveLoss loss, EuclideanDistance distance)
    {
        _margin = (float)loss.Margin;
        _sqrtFloor = (float)Math.Sqrt(distance.Floor);
    }

    /// <inheritdoc />
    public double Compute(Tensor embeddings, Tensor sameClass, Tensor gradient)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(sameClass);
        ArgumentNullException.ThrowIfNull(gradient);
        long rows = embeddings.shape[0];
        long pairs = sameClass.shape[0];
        if (embeddings.dim() != 2 || rows != 2 * pairs || pairs == 0 || !gradient.shape.AsSpan().SequenceEqual(embeddings.shape))
            throw new ArgumentException(
                $"A fused pair step takes embeddings [2N, D], N same-class flags and a gradient of the embeddings' shape; got {TensorChecks.Shape(embeddings)}, {TensorChecks.Shape(sameClass)} and {TensorChecks.Shape(gradient)}.", nameof(embeddings));
        if (sameClass.dtype != ScalarType.Float32)
            throw new ArgumentException($"The same-class flags must be float32; got {sameClass.dtype}.", nameof(sameClass));
        return DistanceAndLoss(FusedBuffers.Floats(embeddings), FusedBuffers.Floats(sameClass), FusedBuffers.Floats(gradient), (int)pairs, (int)embeddings.shape[1]);
    }

    /// <summary>
    /// The mean contrastive loss of the pairs (rows <c>i</c> and <c>N + i</c> of <paramref name="embeddings"/>) at their
    /// Euclidean distance, with its gradient with respect to every embedding written into <paramref name="gradient"/>.
    /// </summary>
    private double DistanceAndLoss(ReadOnlySpan<float> embeddings, ReadOnlySpan<float> sameClass, Span<float> gradient, int pairs, int width)
    {
        double total = 0;
        int half = pairs * width;
        for (int i = 0; i < pairs; i++)
        {
            var first = embeddings.Slice(i * width, width);
            var second = embeddings.Slice(half + i * width, width);
            var firstGradient = gradient.Slice(i * width, width);
            var secondGradient = gradient.Slice(half + i * width, width);
            float squares = 0;
            for (int k = 0; k < width; k++)
            {
                float difference = first[k] - second[k];
                firstGradient[k] = difference;
                squares += difference * difference;
            }

            float norm = MathF.Sqrt(squares);
            // d = max(‖a − b‖, √floor): the gradient passes only where the norm is at or above the floor (as clamp_min's does).
            bool passes = norm >= _sqrtFloor;
            float distance = norm < _sqrtFloor ? _sqrtFloor : norm; // a NaN stays NaN, as with clamp_min
            float y = sameClass[i];
            float shortfall = Math.Min(distance - _margin, 0f);
            total += y * distance * distance + (1 - y) * shortfall * shortfall;
            // dL/dd for the mean over pairs; dd/da = (a − b)/‖a − b‖ and dd/db = −dd/da.
            float slope = passes ? 2f / pairs * (y * distance + (1 - y) * shortfall) / norm : 0f;
            for (int k = 0; k < width; k++)
            {
                float g = firstGradient[k] * slope;
                firstGradient[k] = g;
                secondGradient[k] = -g;
            }
        }

        return total / pairs;
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
