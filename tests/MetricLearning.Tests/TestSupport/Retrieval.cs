using System.Collections.Generic;
using MetricLearning.Evaluation;

namespace MetricLearning.Tests.TestSupport;

/// <summary>Leave-one-out precision@1 of a network's embeddings of a labelled set, for learning tests.</summary>
internal static class Retrieval
{
    internal static double PrecisionAt1(IEmbeddingNetwork network, MetricLearning.Data.InputSet inputs, IReadOnlyList<int> labels, IDistance comparison)
    {
        using var embeddings = Embedder.EmbedAll(network, inputs);
        return RetrievalEvaluator.Evaluate(embeddings, labels, embeddings, labels, comparison, queriesAreReferences: true).PrecisionAt1;
    }
}
