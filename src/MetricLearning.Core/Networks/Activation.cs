namespace MetricLearning.Networks;

/// <summary>The non-linearity applied after each dense layer of an <see cref="MlpEmbeddingNetwork"/>.</summary>
public enum Activation
{
    /// <summary><c>max(x, 0)</c>; the reference experiment's choice.</summary>
    Relu,

    /// <summary>Hyperbolic tangent.</summary>
    Tanh,

    /// <summary>Gaussian error linear unit.</summary>
    Gelu,

    /// <summary>No non-linearity (the layer stays linear).</summary>
    Identity,
}
