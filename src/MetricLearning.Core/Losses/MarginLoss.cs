using System;
using System.Collections.Generic;
using MetricLearning.Reducers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// Margin loss (Wu, Manmatha, Smola and Krähenbühl, "Sampling Matters in Deep Embedding Learning", ICCV 2017),
/// pytorch-metric-learning's <c>MarginLoss</c>: over every triplet (a, p, n) of the batch (or the mined ones), on a
/// distance d, <c>ℓ(a, p, n) = max(d(a, p) − β + α, 0) + max(β − d(a, n) + α, 0)</c> (on a similarity s,
/// <c>max(β − s(a, p) + α, 0) + max(s(a, n) − β + α, 0)</c>), where α is the margin and β the boundary between
/// positives and negatives, one for all or one per class (the anchor's). By default the loss is the sum of ℓ divided by
/// the number of its hinges above zero (<c>Σ [pos > 0] + Σ [neg > 0]</c> over the triplets).
/// </summary>
/// <remarks>
/// <para>
/// Defaults α = 0.2, ν = 0, β = 1.2, β fixed, one β for all classes, the Euclidean distance of L2-normalised embeddings
/// and <see cref="DivisorReducer"/>: pytorch-metric-learning's. Only its <c>triplets_per_anchor="all"</c> (its default)
/// is here, not its random sampling of triplets. Without a miner (or with mined pairs) the triplets are formed per
/// same-class pair against every negative of its anchor, as <see cref="TripletMarginLoss"/> does.
/// </para>
/// <para>
/// With <c>learnBeta</c>, β is this loss's own weight (<see cref="ITrainableParameters"/>: <see cref="LearntBeta"/>, a
/// <c>[1]</c> or <c>[classes]</c> parameter starting at β, trained at <c>learningRateScale</c> times the trainer's rate),
/// and the paper's regularizer ν·β is added: with one β, <c>ν·β</c> (<see cref="LossTermKind.AlreadyReduced"/>, when there
/// is at least one triplet); with one β per class, <c>ν·β_{class(a)}</c> per triplet (<see cref="LossTermKind.Element"/>,
/// anchored at a, with the same divisor). As in pytorch-metric-learning, ν has no effect while β is fixed, and a fixed
/// β holds no parameter. With classes, labels must be class numbers 0 to classes − 1 (checked, which reads the labels'
/// range from the device).
/// </para>
/// <para>
/// Sub-losses: "triplets" (<see cref="LossTermKind.Triplet"/>, divisor the number of hinges above zero) and, when β is
/// learnt, "beta regularization". Not thread-safe while β is trained; dispose it to free β. Otherwise stateless and
/// thread-safe.
/// </para>
/// </remarks>
public sealed class MarginLoss : BatchLoss, ITrainableParameters, IDisposable
{
    private readonly Parameter? _beta;

    /// <summary>Creates the loss.</summary>
    /// <param name="margin">The margin α around β; finite and at least 0.</param>
    /// <param name="nu">The weight ν of the regularizer on a learnt β; finite and at least 0.</param>
    /// <param name="beta">β, or its starting value when learnt; finite.</param>
    /// <param name="learnBeta">Whether β is trained with the network.</param>
    /// <param name="classes">The number of classes for one β per class; null for one β for all.</param>
    /// <param name="learningRateScale">How much faster than the network a learnt β learns; positive and finite.</param>
    /// <param name="distance">How embeddings are compared; null for the Euclidean distance of L2-normalised embeddings.</param>
    /// <param name="reducer">How each sub-loss becomes a number; null for <see cref="DivisorReducer"/>.</param>
    /// <param name="device">Where a learnt β lives; the CPU if null. It must be the embeddings' device.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public MarginLoss(double margin = 0.2, double nu = 0, double beta = 1.2, bool learnBeta = false, int? classes = null,
        double learningRateScale = 1, IDistance? distance = null, IReducer? reducer = null, Device? device = null)
        : base(reducer ?? new DivisorReducer())
    {
        if (!double.IsFinite(margin) || margin < 0)
            throw new ArgumentOutOfRangeException(nameof(margin), margin, "The margin must be finite and at least 0.");
        if (!double.IsFinite(nu) || nu < 0)
            throw new ArgumentOutOfRangeException(nameof(nu), nu, "Nu must be finite and at least 0.");
        if (!double.IsFinite(beta))
            throw new ArgumentOutOfRangeException(nameof(beta), beta, "Beta must be finite.");
        if (classes is < 1)
            throw new ArgumentOutOfRangeException(nameof(classes), classes, "The number of classes for a per-class beta must be at least 1.");
        if (!double.IsFinite(learningRateScale) || learningRateScale <= 0)
            throw new ArgumentOutOfRangeException(nameof(learningRateScale), learningRateScale, "The learning-rate scale must be positive and finite.");
        Margin = margin;
        Nu = nu;
        Beta = beta;
        LearnBeta = learnBeta;
        Classes = classes;
        LearningRateScale = learningRateScale;
        Distance = distance ?? new Distances.LpDistance(2, normalize: true);
        if (learnBeta)
        {
            using var initial = full(classes ?? 1, beta, device: device);
            _beta = new Parameter(initial.clone());
        }
    }

    /// <summary>The margin α around β.</summary>
    public double Margin { get; }

    /// <summary>The weight ν of the regularizer on a learnt β.</summary>
    public double Nu { get; }

    /// <summary>β when fixed; its starting value when learnt (see <see cref="LearntBeta"/>).</summary>
    public double Beta { get; }

    /// <summary>Whether β is trained.</summary>
    public bool LearnBeta { get; }

    /// <summary>The number of classes of a per-class β; null for one β for all.</summary>
    public int? Classes { get; }

    /// <summary>How much faster than the network a learnt β learns.</summary>
    public double LearningRateScale { get; }

    /// <summary>How embeddings are compared.</summary>
    public IDistance Distance { get; }

    /// <summary>The learnt β, <c>[1]</c> or <c>[Classes]</c>; null when β is fixed.</summary>
    public Parameter? LearntBeta => _beta;

    /// <summary>The learnt β with its learning-rate scale; empty when β is fixed.</summary>
    public IReadOnlyList<ParameterGroup> ParameterGroups => _beta is null
        ? Array.Empty<ParameterGroup>()
        : new[] { new ParameterGroup("margin loss beta", new[] { _beta }, LearningRateScale) };

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The batch is invalid, or with per-class β a label is outside 0 to Classes − 1.</exception>
    public override IReadOnlyList<LossTerms> ComputeTerms(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        BatchPairMasks.Validate(embeddings, labels, mined);
        if (Classes is int classes && classes > 1)
        {
            var (min, max) = TensorChecks.Range(labels);
            if (min < 0 || max >= classes)
                throw new ArgumentException($"Label {(min < 0 ? min : max)} is outside the {classes} classes of the per-class beta (0 to {classes - 1}).", nameof(labels));
        }

        if (_beta is not null)
            TensorChecks.SameDevice(embeddings, nameof(embeddings), _beta, "the learnt beta");
        using var scope = NewDisposeScope();
        // Exactly the mined triplets, their two distances read from the batch's matrix.
        if (mined is MinedTriplets triplets)
            return MinedTerms(embeddings, labels, triplets);
        var (positive, negative) = BatchPairMasks.Create(embeddings, labels, mined);
        // One row per same-class pair (a, p): its comparison with every sample n, kept where (a, n) is a negative.
        var pairs = positive.nonzero();
        var anchors = pairs.select(1, 0);
        return Terms(embeddings, labels, anchors, pairs.select(1, 1), negative.index_select(0, anchors));
    }

    /// <summary>The terms of mined triplets, one value each (as the all-triplets terms, without a row per negative); called in the caller's scope.</summary>
    private IReadOnlyList<LossTerms> MinedTerms(Tensor embeddings, Tensor labels, MinedTriplets triplets)
    {
        long rows = embeddings.shape[0];
        var matrix = Distance.ComputeMatrix(embeddings, embeddings).flatten();
        var start = triplets.Anchors * rows;
        var toPositive = matrix.index_select(0, start + triplets.Positives);
        var toNegative = matrix.index_select(0, start + triplets.Negatives);
        var beta = BetaOfAnchors(labels, triplets.Anchors, embeddings);
        var pull = ((Distance.IsSimilarity ? beta - toPositive : toPositive - beta) + Margin).clamp_min(0);
        var push = ((Distance.IsSimilarity ? toNegative - beta : beta - toNegative) + Margin).clamp_min(0);
        var divisor = pull.gt(0).to_type(pull.dtype).sum() + push.gt(0).to_type(push.dtype).sum();
        var anchors = triplets.Anchors.alias();
        var terms = new List<LossTerms> { new("triplets", LossTermKind.Triplet, pull + push, anchors, divisor: divisor) };
        if (_beta is not null)
        {
            terms.Add(_beta.shape[0] == 1
                // ν·β once, when there is a triplet (pytorch-metric-learning gives 0 without triplets).
                ? new LossTerms("beta regularization", LossTermKind.AlreadyReduced, beta.numel() > 0 ? beta[0] * Nu : zeros(1, dtype: pull.dtype, device: pull.device).squeeze(0))
                : new LossTerms("beta regularization", LossTermKind.Element, beta * Nu, anchors.alias(), divisor: divisor.alias()));
        }

        return LossTerms.MoveToOuterDisposeScope(terms.ToArray());
    }

    /// <summary>The terms of triplets given as rows (anchor, positive) and, per row, a mask of the negatives; called in the caller's scope.</summary>
    private IReadOnlyList<LossTerms> Terms(Tensor embeddings, Tensor labels, Tensor anchors, Tensor positives, Tensor valid)
    {
        var matrix = Distance.ComputeMatrix(embeddings, embeddings);
        var beta = BetaOfAnchors(labels, anchors, embeddings).unsqueeze(1);
        var anchorRows = matrix.index_select(0, anchors);
        var toPositive = anchorRows.gather(1, positives.unsqueeze(1));
        var pull = (Distance.IsSimilarity ? beta - toPositive : toPositive - beta) + Margin;
        var push = (Distance.IsSimilarity ? anchorRows - beta : beta - anchorRows) + Margin;
        pull = pull.clamp_min(0);
        push = push.clamp_min(0);
        var weights = valid.to_type(matrix.dtype);
        // Hinges above zero over the triplets: each pull counts once per negative of its row, each push once.
        var divisor = (pull.gt(0).to_type(matrix.dtype) * weights).sum() + (push.gt(0).to_type(matrix.dtype) * weights).sum();
        var rowAnchors = anchors.unsqueeze(1);
        var terms = new List<LossTerms>
        {
            new("triplets", LossTermKind.Triplet, pull + push, rowAnchors, valid, divisor),
        };
        if (_beta is not null)
        {
            if (_beta.shape[0] == 1)
            {
                // ν·β once, when there is a triplet (pytorch-metric-learning gives 0 without triplets).
                var any = valid.any();
                var value = (beta.flatten()[0] * Nu).masked_fill(any.logical_not(), 0);
                terms.Add(new LossTerms("beta regularization", LossTermKind.AlreadyReduced, value));
            }
            else
            {
                var perTriplet = (beta * Nu).expand(valid.shape);
                terms.Add(new LossTerms("beta regularization", LossTermKind.Element, perTriplet, rowAnchors.alias(), valid.alias(), divisor.alias()));
            }
        }

        return LossTerms.MoveToOuterDisposeScope(terms.ToArray());
    }

    /// <summary>β for each anchor, <c>[rows]</c>, in the embeddings' dtype: connected to <see cref="LearntBeta"/> when learnt.</summary>
    private Tensor BetaOfAnchors(Tensor labels, Tensor anchors, Tensor embeddings)
    {
        if (_beta is null)
            return full(anchors.shape[0], Beta, dtype: embeddings.dtype, device: embeddings.device);
        var beta = _beta.to_type(embeddings.dtype);
        return _beta.shape[0] == 1
            ? beta.expand(anchors.shape[0])
            : beta.index_select(0, labels.to_type(ScalarType.Int64).index_select(0, anchors));
    }

    /// <inheritdoc />
    public void Dispose() => _beta?.Dispose();
}
