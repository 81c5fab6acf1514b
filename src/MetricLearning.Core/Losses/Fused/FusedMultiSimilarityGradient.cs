using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using MetricLearning.Distances;
using MetricLearning.Reducers;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// The <see cref="MultiSimilarityLoss"/>'s hand-written value and gradient on cosine similarity, with a
/// multi-similarity miner (<see cref="IMultiSimilarityMiner"/>, cosine) or none, float32 on the CPU: the similarity
/// matrix is one matrix product; mining, the loss and its gradient with respect to the similarities are a few
/// vectorised passes over each anchor's row; the gradient goes back to the embeddings through one more product and
/// the normalisation's closed-form derivative.
/// </summary>
/// <remarks>
/// <para>
/// Why: the autograd step built the similarity matrix twice (miner and loss), masks, <c>masked_fill</c>s, two
/// <c>logsumexp</c>s and their backward passes, each a kernel over the whole batch-by-batch matrix; at the retrieval
/// sample's size (320 images) they took several times as long as an MLP's own products (<c>bench step</c>).
/// </para>
/// <para>
/// The same mining rule (strict inequalities on the similarities, as the miner's; the similarities themselves may
/// differ from autograd's in the last bit, so a pair exactly at a threshold can fall the other way), the same loss and
/// gradients as autograd's (checked in the tests). Not thread-safe.
/// </para>
/// </remarks>
internal sealed class FusedMultiSimilarityGradient : IFusedBatchGradient
{
    private readonly float _alpha;
    private readonly float _beta;
    private readonly float _lambda;
    private readonly float _epsilon;
    private readonly bool _hasMiner;
    private readonly int _maxRows;
    private readonly int _width;
    // Flat buffers, so that a [rows, ...] view is contiguous for any batch size up to the largest.
    private readonly Tensor _normalized;
    private readonly Tensor _similarity;
    private readonly Tensor _normalizedGradient;
    private readonly float[] _norms;
    private readonly int[] _batchLabels;

    private FusedMultiSimilarityGradient(MultiSimilarityLoss loss, IMultiSimilarityMiner? miner, int maxRows, int width)
    {
        _alpha = (float)loss.Alpha;
        _beta = (float)loss.Beta;
        _lambda = (float)loss.Lambda;
        _hasMiner = miner is not null;
        _epsilon = (float)(miner?.Epsilon ?? 0);
        _maxRows = maxRows;
        _width = width;
        using var scope = NewDisposeScope();
        _normalized = empty((long)maxRows * width, dtype: ScalarType.Float32);
        _similarity = empty((long)maxRows * maxRows, dtype: ScalarType.Float32);
        _normalizedGradient = empty((long)maxRows * width, dtype: ScalarType.Float32);
        _normalized.DetachFromDisposeScope();
        _similarity.DetachFromDisposeScope();
        _normalizedGradient.DetachFromDisposeScope();
        _norms = new float[maxRows];
        _batchLabels = new int[maxRows];
    }

    /// <summary>The hand-written gradient for this loss and miner, or null with the reason.</summary>
    /// <param name="loss">The loss.</param>
    /// <param name="miner">The miner, or null for none.</param>
    /// <param name="maxRows">The most rows of a step.</param>
    /// <param name="width">The embeddings' width.</param>
    /// <param name="whyNot">Why it does not apply; null when it does.</param>
    internal static FusedMultiSimilarityGradient? TryCreate(MultiSimilarityLoss loss, IMiner? miner, int maxRows, int width, out string? whyNot)
    {
        whyNot = maxRows < 2 ? $"a step has fewer than 2 rows ({maxRows})"
            : (long)maxRows * maxRows > int.MaxValue / sizeof(float) ? $"a batch of {maxRows} makes a similarity matrix larger than one buffer holds (2 GB)"
            : (long)maxRows * width > int.MaxValue / sizeof(float) ? $"a batch of {maxRows} embeddings of width {width} is larger than one buffer holds (2 GB)"
            : loss.Reducer is not MeanReducer ? $"the loss reduces with {loss.Reducer.GetType().Name}, not {nameof(MeanReducer)}"
            : loss.EmbeddingRegularizer is not null ? "the loss has an embedding regularizer"
            : loss.Similarity is not CosineSimilarity ? $"the loss compares with {loss.Similarity.GetType().Name}, not {nameof(CosineSimilarity)}"
            : miner switch
            {
                null => null,
                IMultiSimilarityMiner { Distance: CosineSimilarity } => null,
                IMultiSimilarityMiner other => $"the miner compares with {other.Distance.GetType().Name}, not {nameof(CosineSimilarity)}",
                _ => $"the miner is a {miner.GetType().Name}, not a multi-similarity miner ({nameof(IMultiSimilarityMiner)})",
            };
        return whyNot is null ? new FusedMultiSimilarityGradient(loss, miner as IMultiSimilarityMiner, maxRows, width) : null;
    }

    /// <inheritdoc />
    public double Compute(Tensor embeddings, ReadOnlySpan<int> labels, bool mine, Tensor gradient)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(gradient);
        int rows = checked((int)embeddings.shape[0]);
        if (embeddings.dim() != 2 || rows < 2 || rows > _maxRows || embeddings.shape[1] != _width || labels.Length != rows
            || !gradient.shape.AsSpan().SequenceEqual(embeddings.shape))
            throw new ArgumentException(
                $"A fused batch step takes 2 to {_maxRows} embeddings of width {_width}, a label each and a gradient of their shape; got {TensorChecks.Shape(embeddings)}, {labels.Length} labels and {TensorChecks.Shape(gradient)}.", nameof(embeddings));
        if (mine && !_hasMiner)
            throw new InvalidOperationException("This step was made without a miner.");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        labels.CopyTo(_batchLabels);
        int width = _width;
        var normalized = _normalized.narrow(0, 0, (long)rows * width).view(rows, width);
        Normalize(FusedBuffers.Floats(embeddings), FusedBuffers.Floats(normalized), rows, width);
        var similarity = _similarity.narrow(0, 0, (long)rows * rows).view(rows, rows);
        similarity.addmm_(normalized, normalized.t(), beta: 0);

        // The similarities' gradient replaces them in place, then is made symmetric: S = N·Nᵀ, so dL/dN = (G + Gᵀ)·N.
        var values = FusedBuffers.Floats(similarity);
        double loss = LossAndGradient(values, rows, mine);
        Symmetrize(values, rows);
        var normalizedGradient = _normalizedGradient.narrow(0, 0, (long)rows * width).view(rows, width);
        normalizedGradient.addmm_(similarity, normalized, beta: 0);
        NormalizeBackward(FusedBuffers.Floats(normalizedGradient), FusedBuffers.Floats(normalized), FusedBuffers.Floats(gradient), rows, width);
        return loss;
    }

    /// <summary>Rows divided by their norms (at least 1e-12, as <c>normalize</c>'s), keeping the norms for the backward pass.</summary>
    private void Normalize(ReadOnlySpan<float> embeddings, Span<float> normalized, int rows, int width)
    {
        const float Floor = (float)EmbeddingNormalization.Epsilon;
        for (int i = 0; i < rows; i++)
        {
            var row = embeddings.Slice(i * width, width);
            float squares = 0;
            foreach (float value in row)
                squares += value * value;
            float norm = MathF.Sqrt(squares);
            _norms[i] = norm;
            float divisor = norm < Floor ? Floor : norm;
            var target = normalized.Slice(i * width, width);
            for (int k = 0; k < width; k++)
                target[k] = row[k] / divisor;
        }
    }

    /// <summary>
    /// The mean over anchors of the multi-similarity loss on the similarities in <paramref name="matrix"/> (mined or
    /// every valid pair), replacing each similarity by the loss's derivative with respect to it (zero for pairs
    /// that do not count).
    /// </summary>
    /// <remarks>
    /// Each anchor's row is four passes of 8-wide vectors: the miner's thresholds, the largest exponent of each term,
    /// the exponentials (shifted by those, as logsumexp does) and their sums, and the scaling into derivatives. The
    /// rows are a multiple of 8 long in practice; the rest of a row, if any, takes the same rules one element at a time.
    /// </remarks>
    private double LossAndGradient(Span<float> matrix, int rows, bool mine)
    {
        double total = 0;
        float scale = 1f / rows;
        int vectorEnd = Vector256.IsHardwareAccelerated ? rows - rows % Vector256<float>.Count : 0;
        var lambda = Vector256.Create(_lambda);
        var minusAlpha = Vector256.Create(-_alpha);
        var beta = Vector256.Create(_beta);
        var epsilon = Vector256.Create(_epsilon);
        var steps = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        for (int i = 0; i < rows; i++)
        {
            var row = matrix.Slice(i * rows, rows);
            int label = _batchLabels[i];
            var labelVector = Vector256.Create(label);
            var anchor = Vector256.Create(i);

            // The same-class and other-class masks of the 8 pairs at column j (a pair of the anchor with itself is neither).
            (Vector256<float> Positive, Vector256<float> Negative) Masks(int j)
            {
                var same = Vector256.Equals(Vector256.Create(_batchLabels.AsSpan(j, Vector256<int>.Count)), labelVector).AsSingle();
                var self = Vector256.Equals(steps + Vector256.Create(j), anchor).AsSingle();
                return (Vector256.AndNot(same, self), ~same);
            }

            // The miner's rule, on farness F = −S as the miner computes it: keep a positive if F + ε > the closest
            // negative's F, a negative if F − ε < the farthest positive's F (none of either without the other).
            float closestNegative = float.PositiveInfinity, farthestPositive = float.NegativeInfinity;
            if (mine)
            {
                var closest = Vector256.Create(float.PositiveInfinity);
                var farthest = Vector256.Create(float.NegativeInfinity);
                for (int j = 0; j < vectorEnd; j += Vector256<float>.Count)
                {
                    var farness = -Vector256.Create((ReadOnlySpan<float>)row.Slice(j, Vector256<float>.Count));
                    var (positive, negative) = Masks(j);
                    closest = Vector256.Min(closest, Vector256.ConditionalSelect(negative, farness, Vector256.Create(float.PositiveInfinity)));
                    farthest = Vector256.Max(farthest, Vector256.ConditionalSelect(positive, farness, Vector256.Create(float.NegativeInfinity)));
                }

                for (int k = 0; k < Vector256<float>.Count && vectorEnd > 0; k++)
                {
                    closestNegative = Math.Min(closestNegative, closest[k]);
                    farthestPositive = Math.Max(farthestPositive, farthest[k]);
                }

                for (int j = vectorEnd; j < rows; j++)
                {
                    if (_batchLabels[j] != label)
                        closestNegative = Math.Min(closestNegative, -row[j]);
                    else if (j != i)
                        farthestPositive = Math.Max(farthestPositive, -row[j]);
                }
            }

            var closestVector = Vector256.Create(closestNegative);
            var farthestVector = Vector256.Create(farthestPositive);

            // The pairs that count among the 8 at column j, and their exponents.
            (Vector256<float> Pull, Vector256<float> Push, Vector256<float> PullExponent, Vector256<float> PushExponent) Kept(Span<float> values, int j)
            {
                var s = Vector256.Create((ReadOnlySpan<float>)values.Slice(j, Vector256<float>.Count));
                var (positive, negative) = Masks(j);
                if (mine)
                {
                    positive &= Vector256.GreaterThan(-s + epsilon, closestVector);
                    negative &= Vector256.LessThan(-s - epsilon, farthestVector);
                }

                var shifted = s - lambda;
                return (positive, negative, shifted * minusAlpha, shifted * beta);
            }

            bool KeptPull(float s, int j) => _batchLabels[j] == label && j != i && (!mine || -s + _epsilon > closestNegative);
            bool KeptPush(float s, int j) => _batchLabels[j] != label && (!mine || -s - _epsilon < farthestPositive);

            // Pass 1: each term's largest exponent (0 stands for the "1 +" inside the log).
            var pullMaxVector = Vector256<float>.Zero;
            var pushMaxVector = Vector256<float>.Zero;
            for (int j = 0; j < vectorEnd; j += Vector256<float>.Count)
            {
                var (pull, push, pullExponent, pushExponent) = Kept(row, j);
                pullMaxVector = Vector256.Max(pullMaxVector, Vector256.ConditionalSelect(pull, pullExponent, Vector256<float>.Zero));
                pushMaxVector = Vector256.Max(pushMaxVector, Vector256.ConditionalSelect(push, pushExponent, Vector256<float>.Zero));
            }

            float pullMax = 0, pushMax = 0;
            for (int k = 0; k < Vector256<float>.Count && vectorEnd > 0; k++)
            {
                pullMax = Math.Max(pullMax, pullMaxVector[k]);
                pushMax = Math.Max(pushMax, pushMaxVector[k]);
            }

            for (int j = vectorEnd; j < rows; j++)
            {
                float s = row[j];
                if (KeptPull(s, j))
                    pullMax = Math.Max(pullMax, (s - _lambda) * -_alpha);
                else if (KeptPush(s, j))
                    pushMax = Math.Max(pushMax, (s - _lambda) * _beta);
            }

            // Pass 2: the shifted exponentials, their sums, and each pair's weight in place (pull weights negative).
            var pullShift = Vector256.Create(pullMax);
            var pushShift = Vector256.Create(pushMax);
            var pullSumVector = Vector256<float>.Zero;
            var pushSumVector = Vector256<float>.Zero;
            for (int j = 0; j < vectorEnd; j += Vector256<float>.Count)
            {
                var (pull, push, pullExponent, pushExponent) = Kept(row, j);
                var weight = Vector256.Exp(Vector256.ConditionalSelect(pull, pullExponent - pullShift, pushExponent - pushShift)) & (pull | push);
                pullSumVector += weight & pull;
                pushSumVector += weight & push;
                Vector256.ConditionalSelect(pull, -weight, weight).CopyTo(row.Slice(j));
            }

            double pullSum = Math.Exp(-pullMax) + Vector256.Sum(pullSumVector), pushSum = Math.Exp(-pushMax) + Vector256.Sum(pushSumVector);
            for (int j = vectorEnd; j < rows; j++)
            {
                float s = row[j];
                float weight = 0;
                if (KeptPull(s, j))
                {
                    weight = -MathF.Exp((s - _lambda) * -_alpha - pullMax);
                    pullSum -= weight;
                }
                else if (KeptPush(s, j))
                {
                    weight = MathF.Exp((s - _lambda) * _beta - pushMax);
                    pushSum += weight;
                }

                row[j] = weight;
            }

            total += (Math.Log(pullSum) + pullMax) / _alpha + (Math.Log(pushSum) + pushMax) / _beta;

            // Pass 3: d/dS of (1/α)·log(1 + Σ exp(−α(S − λ))) is −(softmax weight); of (1/β)·log(1 + Σ exp(β(S − λ))),
            // +(softmax weight); each over the batch's anchors.
            float pullScale = (float)(scale / pullSum), pushScale = (float)(scale / pushSum);
            var pullScaleVector = Vector256.Create(pullScale);
            var pushScaleVector = Vector256.Create(pushScale);
            for (int j = 0; j < vectorEnd; j += Vector256<float>.Count)
            {
                var weight = Vector256.Create((ReadOnlySpan<float>)row.Slice(j, Vector256<float>.Count));
                (weight * Vector256.ConditionalSelect(Vector256.LessThan(weight, Vector256<float>.Zero), pullScaleVector, pushScaleVector)).CopyTo(row.Slice(j));
            }

            for (int j = vectorEnd; j < rows; j++)
                row[j] *= row[j] < 0 ? pullScale : pushScale;
        }

        return total / rows;
    }

    /// <summary><c>G ← G + Gᵀ</c> in place.</summary>
    private static void Symmetrize(Span<float> matrix, int rows)
    {
        for (int i = 0; i < rows; i++)
        {
            matrix[i * rows + i] *= 2;
            for (int j = i + 1; j < rows; j++)
            {
                float sum = matrix[i * rows + j] + matrix[j * rows + i];
                matrix[i * rows + j] = sum;
                matrix[j * rows + i] = sum;
            }
        }
    }

    /// <summary>
    /// The gradient with respect to the embeddings from that with respect to the normalised embeddings:
    /// <c>(dN − N·(N·dN)) / ‖e‖</c>, or <c>dN / floor</c> where the norm was below the floor.
    /// </summary>
    private void NormalizeBackward(ReadOnlySpan<float> normalizedGradient, ReadOnlySpan<float> normalized, Span<float> gradient, int rows, int width)
    {
        const float Floor = (float)EmbeddingNormalization.Epsilon;
        for (int i = 0; i < rows; i++)
        {
            var dn = normalizedGradient.Slice(i * width, width);
            var n = normalized.Slice(i * width, width);
            var target = gradient.Slice(i * width, width);
            float norm = _norms[i];
            if (!(norm >= Floor))
            {
                for (int k = 0; k < width; k++)
                    target[k] = dn[k] / Floor;
                continue;
            }

            float projection = 0;
            for (int k = 0; k < width; k++)
                projection += n[k] * dn[k];
            for (int k = 0; k < width; k++)
                target[k] = (dn[k] - n[k] * projection) / norm;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _normalized.Dispose();
        _similarity.Dispose();
        _normalizedGradient.Dispose();
    }
}
