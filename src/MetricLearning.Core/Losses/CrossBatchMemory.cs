using System;
using System.Collections.Generic;
using MetricLearning.Mining;
using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>
/// Cross-batch memory (Wang, Zhang, Huang and Scott, "Cross-Batch Memory for Embedding Learning", CVPR 2020),
/// pytorch-metric-learning's <c>CrossBatchMemory</c>: a queue of the last <see cref="MemorySize"/> embeddings and their
/// labels, detached, that each batch joins before its loss is computed; the wrapped loss then compares each embedding of
/// the batch (the queries, the only rows with gradient) with every embedding in the queue (the references), so a small
/// batch meets many more pairs. A query's pair with its own copy in the queue is left out.
/// </summary>
/// <remarks>
/// <para>
/// Default memory size 1024, pytorch-metric-learning's. The wrapped loss must be able to compare queries with
/// references: <see cref="MarginContrastiveLoss"/> (pytorch-metric-learning's <c>ContrastiveLoss</c>) or
/// <see cref="MultiSimilarityLoss"/>; any other is refused, by name. An optional miner picks among the (query, reference)
/// pairs, as pytorch-metric-learning's miner given the memory as its reference does: <see cref="PairMarginMiner"/> or
/// <see cref="MultiSimilarityMiner"/> (others are refused); the self-comparisons are removed after mining. The loss is
/// reduced by the wrapped loss's reducer with the batch's labels, and its embedding regularizer applies to the batch.
/// Not here: pytorch-metric-learning's <c>enqueue_mask</c>, and mined indices given to <see cref="Compute"/> (refused:
/// batch indices do not index the memory; give the miner to the memory instead).
/// </para>
/// <para>
/// Deterministic. The queue is tensors this object owns, of the dtype and on the device given at construction (the
/// embeddings must match); dispose it to free them. Its state (<see cref="MemoryEmbeddings"/>,
/// <see cref="MemoryLabels"/>, <see cref="Position"/>, <see cref="IsFull"/>) can be read and restored
/// (<see cref="Restore"/>), for checkpoints. Not thread-safe: each call changes the queue.
/// </para>
/// </remarks>
public sealed class CrossBatchMemory : IBatchLoss, ITrainingState, IDisposable
{
    private readonly BatchLoss _loss;
    private readonly IReferenceBatchLoss _referenceLoss;
    private readonly IReferenceMiner? _referenceMiner;
    private readonly Tensor _embeddings;
    private readonly Tensor _labels;
    // Position and whether the queue has been filled, on the CPU: training state saved in checkpoints with the queue.
    private readonly Tensor _cursor = zeros(2, dtype: ScalarType.Int64);

    /// <summary>Creates the memory, empty.</summary>
    /// <param name="loss">The loss to compute against the memory: a <see cref="MarginContrastiveLoss"/> or a <see cref="MultiSimilarityLoss"/>.</param>
    /// <param name="embeddingSize">Width of the embeddings; at least 1.</param>
    /// <param name="memorySize">How many embeddings the queue holds; at least 1, and at least the batch size.</param>
    /// <param name="miner">Picks among the (batch, memory) pairs: a <see cref="PairMarginMiner"/> or a <see cref="MultiSimilarityMiner"/>; null for every pair.</param>
    /// <param name="dtype">The embeddings' dtype; null for torch's default.</param>
    /// <param name="device">Where the queue lives; the CPU if null. It must be the embeddings' device.</param>
    /// <exception cref="ArgumentException">The loss or the miner cannot compare a batch with a memory.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    public CrossBatchMemory(IBatchLoss loss, long embeddingSize, int memorySize = 1024, IMiner? miner = null, ScalarType? dtype = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        if (loss is not BatchLoss batchLoss || loss is not IReferenceBatchLoss referenceLoss)
            throw new ArgumentException($"CrossBatchMemory cannot wrap {loss.GetType().Name}: it needs a loss that compares a batch with a memory of other embeddings ({nameof(MarginContrastiveLoss)} or {nameof(MultiSimilarityLoss)}).", nameof(loss));
        if (miner is not null and not IReferenceMiner)
            throw new ArgumentException($"CrossBatchMemory cannot use the miner {miner.GetType().Name}: it needs a miner that mines pairs between a batch and a memory ({nameof(PairMarginMiner)} or {nameof(MultiSimilarityMiner)}).", nameof(miner));
        if (embeddingSize < 1)
            throw new ArgumentOutOfRangeException(nameof(embeddingSize), embeddingSize, "The embedding size must be at least 1.");
        if (memorySize < 1)
            throw new ArgumentOutOfRangeException(nameof(memorySize), memorySize, "The memory must hold at least one embedding.");
        var type = dtype ?? get_default_dtype();
        if (type is not (ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentOutOfRangeException(nameof(dtype), type, "The memory's dtype must be floating point.");
        _loss = batchLoss;
        _referenceLoss = referenceLoss;
        _referenceMiner = miner as IReferenceMiner;
        Loss = loss;
        Miner = miner;
        EmbeddingSize = embeddingSize;
        MemorySize = memorySize;
        _embeddings = zeros(memorySize, embeddingSize, dtype: type, device: device);
        _labels = zeros(memorySize, dtype: ScalarType.Int64, device: device);
    }

    /// <summary>The wrapped loss.</summary>
    public IBatchLoss Loss { get; }

    /// <summary>The miner of (batch, memory) pairs; null for every pair.</summary>
    public IMiner? Miner { get; }

    /// <summary>Width of the embeddings.</summary>
    public long EmbeddingSize { get; }

    /// <summary>How many embeddings the queue holds.</summary>
    public int MemorySize { get; }

    /// <summary>
    /// The queue's embeddings, <c>[MemorySize, EmbeddingSize]</c>, the tensor it owns (not a copy: do not change it; use
    /// <see cref="Restore"/>). Rows from <see cref="Position"/> on are unused until <see cref="IsFull"/>.
    /// </summary>
    public Tensor MemoryEmbeddings => _embeddings;

    /// <summary>The queue's labels, int64 <c>[MemorySize]</c>, the tensor it owns (see <see cref="MemoryEmbeddings"/>).</summary>
    public Tensor MemoryLabels => _labels;

    /// <summary>The row the next embedding goes to (pytorch-metric-learning's <c>queue_idx</c>).</summary>
    public int Position
    {
        get => (int)_cursor[0].item<long>();
        private set => _cursor[0] = value;
    }

    /// <summary>Whether the queue has been filled once, so that every row is in use (pytorch-metric-learning's <c>has_been_filled</c>).</summary>
    public bool IsFull
    {
        get => _cursor[1].item<long>() != 0;
        private set => _cursor[1] = value ? 1 : 0;
    }

    /// <summary>The queue (embeddings and labels) and its position, saved in checkpoints so that a resumed run compares with the same memory.</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>> TrainingState => new[]
    {
        new KeyValuePair<string, Tensor>("embeddings", _embeddings),
        new KeyValuePair<string, Tensor>("labels", _labels),
        new KeyValuePair<string, Tensor>("cursor", _cursor),
    };

    /// <summary>Empties the queue.</summary>
    public void Reset()
    {
        using (no_grad())
        {
            _embeddings.zero_();
            _labels.zero_();
        }

        Position = 0;
        IsFull = false;
    }

    /// <summary>Sets the queue's state, as read from <see cref="MemoryEmbeddings"/>, <see cref="MemoryLabels"/>, <see cref="Position"/> and <see cref="IsFull"/> (copied in).</summary>
    /// <param name="embeddings"><c>[MemorySize, EmbeddingSize]</c>, floating point.</param>
    /// <param name="labels"><c>[MemorySize]</c>, integer.</param>
    /// <param name="position">0 to MemorySize − 1.</param>
    /// <param name="isFull">Whether every row is in use.</param>
    /// <exception cref="ArgumentException">A shape or dtype is wrong.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="position"/> is outside the queue.</exception>
    public void Restore(Tensor embeddings, Tensor labels, int position, bool isFull)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(labels);
        TensorChecks.Rank(embeddings, 2, nameof(embeddings));
        TensorChecks.Rank(labels, 1, nameof(labels));
        TensorChecks.FloatingPoint(embeddings, nameof(embeddings));
        if (labels.is_floating_point() || labels.dtype == ScalarType.Bool)
            throw new ArgumentException($"'labels' must hold integer class labels; its dtype is {labels.dtype}.", nameof(labels));
        if (embeddings.shape[0] != MemorySize || embeddings.shape[1] != EmbeddingSize || labels.shape[0] != MemorySize)
            throw new ArgumentException($"The memory is [{MemorySize}, {EmbeddingSize}] with [{MemorySize}] labels; got {TensorChecks.Shape(embeddings)} and {TensorChecks.Shape(labels)}.", nameof(embeddings));
        if (position < 0 || position >= MemorySize)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"The position must be 0 to {MemorySize - 1}.");
        using (no_grad())
        {
            _embeddings.copy_(embeddings);
            _labels.copy_(labels);
        }

        Position = position;
        IsFull = isFull;
    }

    /// <summary>
    /// Adds the batch to the queue (dropping the oldest when it is full), then computes the wrapped loss of the batch
    /// against every embedding in the queue, other than each embedding's own copy.
    /// </summary>
    /// <param name="embeddings">Shape <c>[N, EmbeddingSize]</c>, the memory's dtype and device, 2 ≤ N ≤ MemorySize.</param>
    /// <param name="labels">Shape <c>[N]</c>, integer class labels on the same device.</param>
    /// <param name="mined">Must be null: give the miner to the memory.</param>
    /// <returns>A 0-d tensor, differentiable with respect to <paramref name="embeddings"/>.</returns>
    /// <exception cref="ArgumentException">Mined indices were given, or the batch does not fit the memory.</exception>
    public Tensor Compute(Tensor embeddings, Tensor labels, MinedIndices? mined = null)
    {
        if (mined is not null)
            throw new ArgumentException("CrossBatchMemory takes no mined indices: indices into the batch do not index the memory. Give the miner to the CrossBatchMemory instead.", nameof(mined));
        BatchPairMasks.Validate(embeddings, labels, null);
        if (embeddings.shape[1] != EmbeddingSize)
            throw new ArgumentException($"The embeddings are {embeddings.shape[1]} wide but the memory holds {EmbeddingSize}-wide ones.", nameof(embeddings));
        if (embeddings.shape[0] > MemorySize)
            throw new ArgumentException($"A batch of {embeddings.shape[0]} embeddings does not fit a memory of {MemorySize}.", nameof(embeddings));
        if (embeddings.dtype != _embeddings.dtype)
            throw new ArgumentException($"The embeddings are {embeddings.dtype} but the memory holds {_embeddings.dtype}.", nameof(embeddings));
        TensorChecks.SameDevice(embeddings, nameof(embeddings), _embeddings, "the memory");

        using var scope = NewDisposeScope();
        long batch = embeddings.shape[0];
        var batchLabels = labels.to_type(ScalarType.Int64);
        var rows = (arange(batch, dtype: ScalarType.Int64, device: embeddings.device) + Position).remainder(MemorySize);
        using (no_grad())
        {
            _embeddings.index_copy_(0, rows, embeddings.detach());
            _labels.index_copy_(0, rows, batchLabels);
        }

        int previous = Position;
        Position = (int)((Position + batch) % MemorySize);
        if (!IsFull && Position <= previous)
            IsFull = true;

        // A copy: the loss's graph keeps it, and the queue changes in place at the next call.
        long used = IsFull ? MemorySize : Position;
        var references = _embeddings.narrow(0, 0, used).clone();
        var referenceLabels = _labels.narrow(0, 0, used);
        var positive = batchLabels.unsqueeze(1).eq(referenceLabels.unsqueeze(0));
        var negative = positive.logical_not();
        if (_referenceMiner is not null)
            (positive, negative) = _referenceMiner.Mine(embeddings, references, positive, negative);
        // Each query's own copy in the memory is not a pair.
        var self = nn.functional.one_hot(rows, used).to_type(ScalarType.Bool);
        positive = positive.logical_and(self.logical_not());
        var terms = _referenceLoss.ComputeTerms(embeddings, references, positive, negative);
        return _loss.Reduce(terms, embeddings, batchLabels).MoveToOuterDisposeScope();
    }

    /// <summary>Frees the queue.</summary>
    public void Dispose()
    {
        _cursor.Dispose();
        _embeddings.Dispose();
        _labels.Dispose();
    }
}
