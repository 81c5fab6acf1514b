namespace MetricLearning.Networks;

/// <summary>The file formats of <see cref="PyTorchWeights"/>.</summary>
public enum PyTorchWeightFormat
{
    /// <summary>By the file name: <c>.safetensors</c> is <see cref="Safetensors"/>, anything else <see cref="StateDict"/>.</summary>
    Auto,

    /// <summary>PyTorch's own <c>torch.save(model.state_dict(), path)</c> (the zip format of PyTorch 1.6 and later).</summary>
    StateDict,

    /// <summary>Hugging Face's safetensors: a JSON header and the raw tensors.</summary>
    Safetensors,
}
