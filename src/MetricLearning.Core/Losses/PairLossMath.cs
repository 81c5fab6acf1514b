using static TorchSharp.torch;

namespace MetricLearning.Losses;

/// <summary>Masked log-sum-exps for the pair losses, safe to differentiate when a row has nothing in its mask.</summary>
internal static class PairLossMath
{
    /// <summary>
    /// <c>log Σ_{j in mask} e^{x_ij}</c> per row (dimension 1), as an <c>[N]</c> vector; <paramref name="empty"/> for a
    /// row whose mask is empty (pytorch-metric-learning's masked log-sum-exp gives 0 there). An empty row is summed
    /// over finite stand-ins and then replaced, so its gradient is 0 rather than NaN.
    /// </summary>
    internal static Tensor MaskedLogSumExp(Tensor x, Tensor mask, double empty)
    {
        var any = mask.any(1, keepdim: true);
        var none = any.logical_not();
        var filled = x.masked_fill(mask.logical_not(), double.NegativeInfinity).masked_fill(none, 0);
        return filled.logsumexp(1, keepdim: true).masked_fill(none, empty).squeeze(1);
    }

    /// <summary>
    /// <c>log(e^a + e^b)</c>, broadcast, where either may be −∞ (an empty sum); <paramref name="empty"/> where both
    /// are, with a 0 gradient there instead of NaN.
    /// </summary>
    internal static Tensor LogAddExp(Tensor a, Tensor b, double empty)
    {
        var both = a.eq(double.NegativeInfinity).logical_and(b.eq(double.NegativeInfinity));
        var first = a.expand(both.shape).masked_fill(both, 0);
        var second = b.expand(both.shape).masked_fill(both, 0);
        return first.logaddexp(second).masked_fill(both, empty);
    }
}
