using MetricLearning.Distances;
using static TorchSharp.torch;

namespace MetricLearning.Tests.TestSupport;

/// <summary>
/// The negated Euclidean distance as a similarity: larger is closer, with exactly the distance's ordering, so a loss
/// or miner must give the same answer on it as on the distance.
/// </summary>
internal sealed class NegatedLp : IDistance
{
    private readonly LpDistance _inner = new(2);

    public bool IsSimilarity => true;

    public Tensor Compute(Tensor first, Tensor second) => _inner.Compute(first, second).neg();

    public Tensor ComputeMatrix(Tensor queries, Tensor references) => _inner.ComputeMatrix(queries, references).neg();
}
