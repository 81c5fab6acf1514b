using System;
using MetricLearning.Data;
using MetricLearning.Distances;
using MetricLearning.Losses;
using MetricLearning.Models;
using MetricLearning.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Training;

/// <summary>
/// One step of the pair path for an <see cref="MlpEmbeddingNetwork"/> trained with the <see cref="EuclideanDistance"/>
/// and the <see cref="ContrastiveLoss"/>, float32 on the CPU, computed without autograd: the network's pass is
/// <see cref="FusedMlp"/>'s, and the distance, the loss and the loss's gradient with respect to the embeddings are one
/// managed pass over the pairs, in closed form.
/// </summary>
/// <remarks>
/// The same loss and gradients as autograd's (checked in the tests), with the same dropout masks for a seed.
/// <see cref="TryCreate"/> returns null, with the reason, for anything else (another network, activation, distance or
/// loss, another device or dtype, a frozen parameter), which then trains on the generic path. Not thread-safe.
/// </remarks>
internal sealed class FusedMlpPairStep : IDisposable
{
    private readonly FusedMlp _mlp;
    private readonly float _margin;
    private readonly float _sqrtFloor;

    private FusedMlpPairStep(MlpEmbeddingNetwork network, EuclideanDistance distance, ContrastiveLoss loss, int maxRows)
    {
        _mlp = new FusedMlp(network, maxRows);
        _margin = (float)loss.Margin;
        _sqrtFloor = (float)Math.Sqrt(distance.Floor);
    }

    /// <summary>Why the fused step cannot train these components, or null when it can.</summary>
    /// <param name="model">The Siamese model being trained.</param>
    /// <param name="loss">The pair loss.</param>
    /// <param name="inputs">The inputs the steps will gather from.</param>
    /// <param name="maxPairs">The most pairs a step has (the batch size, or fewer if there are fewer pairs).</param>
    internal static string? WhyNot(SiameseNetwork model, ILoss loss, InputSet inputs, int maxPairs) =>
        FusedMlp.WhyNot(model.Embedding, inputs, 2L * maxPairs)
        ?? (model.Distance is not EuclideanDistance ? $"the distance is a {model.Distance.GetType().Name}, not a {nameof(EuclideanDistance)}" : null)
        ?? (loss is not ContrastiveLoss ? $"the loss is a {loss.GetType().Name}, not a {nameof(ContrastiveLoss)}" : null);

    /// <summary>
    /// The fused step for these components, or null (with the reason, <see cref="WhyNot"/>'s) when they are not the
    /// combination it computes.
    /// </summary>
    /// <param name="model">The Siamese model being trained.</param>
    /// <param name="loss">The pair loss.</param>
    /// <param name="inputs">The inputs the steps will gather from.</param>
    /// <param name="maxPairs">The most pairs a step has.</param>
    /// <param name="reason">Why the fused step does not apply; null when it does.</param>
    internal static FusedMlpPairStep? TryCreate(SiameseNetwork model, ILoss loss, InputSet inputs, int maxPairs, out string? reason)
    {
        reason = WhyNot(model, loss, inputs, maxPairs);
        return reason is null
            ? new FusedMlpPairStep((MlpEmbeddingNetwork)model.Embedding, (EuclideanDistance)model.Distance, (ContrastiveLoss)loss, 2 * maxPairs)
            : null;
    }

    /// <summary>
    /// Computes the loss of one step and writes its gradient into every parameter's gradient (replacing what was
    /// there, so no zeroing is needed first).
    /// </summary>
    /// <param name="inputs">The set the step's inputs are gathered from.</param>
    /// <param name="indices">Int64 <c>[2N]</c> on the CPU: the pairs' first inputs' rows, then their second inputs' rows.</param>
    /// <param name="sameClass">Float32 <c>[N]</c>: 1 for a same-class pair, 0 otherwise.</param>
    /// <returns>The mean loss, a float32 0-d tensor in the caller's dispose scope (no autograd history).</returns>
    internal Tensor Step(InputSet inputs, Tensor indices, Tensor sameClass)
    {
        int rows = checked((int)indices.shape[0]);
        int pairs = rows / 2;
        if (rows == 0 || rows % 2 != 0 || rows > _mlp.MaxRows || sameClass.shape[0] != pairs)
            throw new ArgumentException(
                $"A fused step takes an even number of rows up to {_mlp.MaxRows} and a same-class flag per pair; got {rows} rows and {sameClass.shape[0]} flags.", nameof(indices));
        if (sameClass.dtype != ScalarType.Float32)
            throw new ArgumentException($"The same-class flags must be float32; got {sameClass.dtype}.", nameof(sameClass));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var embeddings = _mlp.Forward(inputs, indices, rows);
        double loss = DistanceAndLoss(FusedMlp.Floats(embeddings), FusedMlp.Floats(sameClass), FusedMlp.Floats(_mlp.EmbeddingGradient(rows)), pairs, _mlp.EmbeddingWidth);
        _mlp.Backward(rows);
        return tensor((float)loss).MoveToOuterDisposeScope();
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
    public void Dispose() => _mlp.Dispose();
}
