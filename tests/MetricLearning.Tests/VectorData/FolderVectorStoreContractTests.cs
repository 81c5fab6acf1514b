using MetricLearning.VectorData;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;

namespace MetricLearning.Tests.VectorData;

/// <summary>The contract run against <see cref="FolderVectorStore"/>.</summary>
public sealed class FolderVectorStoreContractTests : VectorStoreContractTests
{
    protected override VectorStore OpenStore(string place, IEmbeddingGenerator? generator) =>
        new FolderVectorStore(place, new FolderVectorStoreOptions { EmbeddingGenerator = generator });
}
