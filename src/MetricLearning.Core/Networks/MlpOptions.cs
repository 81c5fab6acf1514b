using System;
using System.Collections.Generic;
using System.Linq;

namespace MetricLearning.Networks;

/// <summary>The shape of an <see cref="MlpEmbeddingNetwork"/>. Defaults are the reference experiment's 784-128-128-128 MLP.</summary>
public sealed class MlpOptions
{
    /// <summary>Number of input features after flattening (784 for a 28×28 image). Default 784.</summary>
    public int InputSize { get; set; } = 784;

    /// <summary>Width of each dense layer, in order; the last one is the embedding size. Default 128, 128, 128.</summary>
    public IList<int> LayerSizes { get; set; } = new List<int> { 128, 128, 128 };

    /// <summary>Non-linearity after each dense layer. Default <see cref="Activation.Relu"/>.</summary>
    public Activation Activation { get; set; } = Activation.Relu;

    /// <summary>Whether the last layer is followed by the activation too (the reference does). Default true.</summary>
    public bool ActivateLastLayer { get; set; } = true;

    /// <summary>Dropout probability after each layer but the last, in [0, 1). Default 0.1.</summary>
    public double Dropout { get; set; } = 0.1;

    /// <summary>Weight initialisation. Default <see cref="WeightInitialization.GlorotUniform"/>.</summary>
    public WeightInitialization Initialization { get; set; } = WeightInitialization.GlorotUniform;

    /// <summary>Checks every setting and names the first one that is wrong.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (InputSize < 1)
            throw new ArgumentOutOfRangeException(nameof(InputSize), InputSize, "MlpOptions.InputSize must be at least 1.");
        if (LayerSizes is null || LayerSizes.Count == 0)
            throw new ArgumentException("MlpOptions.LayerSizes must list at least one layer width.", nameof(LayerSizes));
        if (LayerSizes.Any(size => size < 1))
            throw new ArgumentOutOfRangeException(nameof(LayerSizes), string.Join(", ", LayerSizes), "MlpOptions.LayerSizes must all be at least 1.");
        if (!double.IsFinite(Dropout) || Dropout < 0 || Dropout >= 1)
            throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "MlpOptions.Dropout must be in [0, 1).");
        if (!Enum.IsDefined(Activation))
            throw new ArgumentOutOfRangeException(nameof(Activation), Activation, "MlpOptions.Activation is not a known activation.");
        if (!Enum.IsDefined(Initialization))
            throw new ArgumentOutOfRangeException(nameof(Initialization), Initialization, "MlpOptions.Initialization is not a known scheme.");
    }

    /// <summary>A copy whose list of layer sizes is independent of this one's.</summary>
    public MlpOptions Clone() => new()
    {
        InputSize = InputSize,
        LayerSizes = LayerSizes.ToList(),
        Activation = Activation,
        ActivateLastLayer = ActivateLastLayer,
        Dropout = Dropout,
        Initialization = Initialization,
    };
}
