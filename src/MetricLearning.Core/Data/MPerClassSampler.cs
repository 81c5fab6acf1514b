using System;
using System.Collections.Generic;
using System.Linq;

namespace MetricLearning.Data;

/// <summary>
/// Batches of M samples per class (as pytorch-metric-learning's <c>MPerClassSampler</c>): each batch holds
/// <c>batchSize / M</c> classes drawn at random without replacement, and M samples of each, drawn from a per-class
/// shuffled queue that is refilled when it runs out (so a class with fewer than M samples repeats some).
/// </summary>
/// <remarks>
/// An epoch has <c>floor(samples / batchSize)</c> batches. Draws come from <see cref="Random"/> seeded with
/// <c>Seed + epoch</c>, so an epoch's batches depend only on the labels, the seed and the epoch. Thread-safe.
/// </remarks>
public sealed class MPerClassSampler
{
    /// <summary>Creates the sampler.</summary>
    /// <param name="samplesPerClass">M, at least 2 (a class needs a positive pair in the batch).</param>
    /// <param name="batchSize">Samples per batch; a multiple of M, at least 2·M.</param>
    /// <param name="seed">Seed of the draws.</param>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public MPerClassSampler(int samplesPerClass, int batchSize, int seed = AlternatingPairSampler.DefaultSeed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samplesPerClass, 2);
        if (batchSize < 2 * samplesPerClass || batchSize % samplesPerClass != 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize,
                $"The batch size must be a multiple of the {samplesPerClass} samples per class, and hold at least two classes.");
        SamplesPerClass = samplesPerClass;
        BatchSize = batchSize;
        Seed = seed;
    }

    /// <summary>M, the samples of each class in a batch.</summary>
    public int SamplesPerClass { get; }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Seed of the draws.</summary>
    public int Seed { get; }

    /// <summary>The batches of one epoch, as sample indices.</summary>
    /// <param name="labels">The class of each sample.</param>
    /// <param name="epoch">The epoch (any integer); it varies the draws.</param>
    /// <exception cref="ArgumentException">There are fewer classes than a batch needs, or fewer samples than one batch.</exception>
    public IReadOnlyList<int[]> Batches(IReadOnlyList<int> labels, int epoch)
    {
        var byClass = ClassMembers.Group(labels, nameof(labels));
        int classesPerBatch = BatchSize / SamplesPerClass;
        if (byClass.Count < classesPerBatch)
            throw new ArgumentException(
                $"A batch of {BatchSize} with {SamplesPerClass} per class needs {classesPerBatch} classes; the labels hold {byClass.Count}.", nameof(labels));
        int batches = labels.Count / BatchSize;
        if (batches == 0)
            throw new ArgumentException($"There are {labels.Count} samples, fewer than one batch of {BatchSize}.", nameof(labels));

        var random = new Random(unchecked(Seed + epoch));
        var classes = byClass.Keys.ToArray();
        var queues = byClass.ToDictionary(entry => entry.Key, _ => new Queue<int>());
        var result = new List<int[]>(batches);
        for (int b = 0; b < batches; b++)
        {
            var batch = new int[BatchSize];
            int p = 0;
            foreach (int label in classes.OrderBy(_ => random.Next()).Take(classesPerBatch))
            {
                var queue = queues[label];
                for (int m = 0; m < SamplesPerClass; m++)
                {
                    if (queue.Count == 0)
                    {
                        var refill = byClass[label].ToArray();
                        random.Shuffle(refill);
                        foreach (int index in refill)
                            queue.Enqueue(index);
                    }

                    batch[p++] = queue.Dequeue();
                }
            }

            result.Add(batch);
        }

        return result;
    }
}
