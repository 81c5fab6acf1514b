namespace MetricLearning.Networks;

/// <summary>How the dense layers of an <see cref="MlpEmbeddingNetwork"/> are initialised.</summary>
public enum WeightInitialization
{
    /// <summary>Glorot (Xavier) uniform weights and zero biases: Keras' default and the reference experiment's.</summary>
    GlorotUniform,

    /// <summary>TorchSharp's own default for <c>Linear</c> (Kaiming uniform weights, uniform biases).</summary>
    TorchDefault,
}
