using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Networks;

/// <summary>
/// Brings a batch of images or feature maps <c>[N, C, H, W]</c> into channels-last memory order (the same shape and
/// values, strides of NHWC): a copy, or for one contiguous channel a view of the same memory. TorchSharp has no
/// <c>memory_format</c> argument, but libtorch reads a tensor's layout from its strides, and its convolutions, batch
/// normalisation, ReLU and pooling then keep that order: pooling in particular runs several times faster on it than
/// on channel-first maps.
/// </summary>
internal sealed class ChannelsLastLayout : nn.Module<Tensor, Tensor>
{
    internal ChannelsLastLayout()
        : base(nameof(ChannelsLastLayout))
    {
    }

    public override Tensor forward(Tensor input)
    {
        // One channel: a contiguous [N, 1, H, W] already has channels-last memory order, but libtorch reads strides
        // (H*W, H*W, W, 1) as channel-first; the same memory viewed as [N, H, W, 1] and permuted has the channel
        // stride of 1 that says channels-last, without a copy (and keeps the input's storage offset).
        if (input.dim() == 4 && input.shape[1] == 1 && input.is_contiguous())
            return input.view(input.shape[0], input.shape[2], input.shape[3], 1).permute(0, 3, 1, 2);
        using var scope = NewDisposeScope();
        return input.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2).MoveToOuterDisposeScope();
    }
}
