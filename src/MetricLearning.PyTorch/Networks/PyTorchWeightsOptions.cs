using System.Collections.Generic;

namespace MetricLearning.Networks;

/// <summary>How <see cref="PyTorchWeights"/> maps a file's tensor names to a module's.</summary>
/// <remarks>
/// A file key is the module's key with <see cref="KeyPrefix"/> in front: a model saved from inside a wrapper
/// (<c>backbone.conv1.weight</c>, or <c>module.</c> from <c>DataParallel</c>) loads into the bare network with
/// <c>KeyPrefix = "backbone."</c>. Every other difference is an error, never a silent skip: the only tensors left out
/// are those <see cref="IgnoredKeys"/> names, and batch-norm <c>num_batches_tracked</c> counters the file lacks.
/// </remarks>
public sealed class PyTorchWeightsOptions
{
    /// <summary>The format; <see cref="PyTorchWeightFormat.Auto"/> (by file name) unless set.</summary>
    public PyTorchWeightFormat Format { get; set; } = PyTorchWeightFormat.Auto;

    /// <summary>Put before every module key to make the file key. Default none.</summary>
    public string KeyPrefix { get; set; } = "";

    /// <summary>
    /// File keys left out on purpose, when loading (present or not) and when saving: an entry ending in <c>.</c>
    /// covers every key that starts with it (<c>fc.</c> covers <c>fc.weight</c> and <c>fc.bias</c>), any other entry
    /// one key exactly.
    /// </summary>
    public IList<string> IgnoredKeys { get; } = new List<string>();
}
