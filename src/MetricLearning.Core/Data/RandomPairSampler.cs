using System;
using System.Collections.Generic;
using System.Linq;
using MetricLearning.Data;

namespace MetricLearning.Data;

/// <summary>
/// Random balanced pairs: a given number of pairs, alternating same-class and different-class, each drawn
/// uniformly: an anchor uniformly among the samples, then a partner uniformly among the other samples of its class
/// (same-class pairs, anchors restricted to classes with at least two samples) or among the samples of other
/// classes (different-class pairs).
/// </summary>
/// <remarks>
/// Useful for held-out pairs (for example to calibrate a threshold on training images without reusing the training
/// pairs) and as a plainer alternative to <see cref="AlternatingPairSampler"/>. Draws come from <see cref="Random"/>
/// seeded afresh on each call, so the same labels and seed give the same pairs. Thread-safe.
/// </remarks>
public sealed class RandomPairSampler : IPairSampler
{
    /// <summary>Creates the sampler.</summary>
    /// <param name="pairCount">How many pairs to draw; even counts are exactly half same-class. At least 2.</param>
    /// <param name="seed">Seed of the draws.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pairCount"/> is below 2.</exception>
    public RandomPairSampler(int pairCount, int seed = AlternatingPairSampler.DefaultSeed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pairCount, 2);
        PairCount = pairCount;
        Seed = seed;
    }

    /// <summary>How many pairs each call draws.</summary>
    public int PairCount { get; }

    /// <summary>Seed of the draws.</summary>
    public int Seed { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">There are fewer than two classes, or no class has two samples.</exception>
    public PairSet Sample(IReadOnlyList<int> labels)
    {
        var byClass = ClassMembers.Group(labels, nameof(labels));
        var anchorsWithPartner = byClass.Values.Where(members => members.Count >= 2).SelectMany(members => members).ToArray();
        if (anchorsWithPartner.Length == 0)
            throw new ArgumentException("Same-class pairs need a class with at least two samples; every class has one.", nameof(labels));

        var random = new Random(Seed);
        var first = new int[PairCount];
        var second = new int[PairCount];
        var isSame = new bool[PairCount];
        for (int p = 0; p < PairCount; p++)
        {
            if (p % 2 == 0)
            {
                int anchor = anchorsWithPartner[random.Next(anchorsWithPartner.Length)];
                var members = byClass[labels[anchor]];
                int partner;
                do
                {
                    partner = members[random.Next(members.Count)];
                }
                while (partner == anchor);
                (first[p], second[p], isSame[p]) = (anchor, partner, true);
            }
            else
            {
                int anchor = random.Next(labels.Count);
                int partner;
                do
                {
                    partner = random.Next(labels.Count);
                }
                while (labels[partner] == labels[anchor]);
                (first[p], second[p], isSame[p]) = (anchor, partner, false);
            }
        }

        return new PairSet(first, second, isSame);
    }
}
