using System;

namespace MetricLearning.Training;

/// <summary>
/// Which optimizer a trainer uses and its settings. Settable properties so that it binds from configuration; the
/// factory methods give each optimizer's usual settings. Settings that do not apply to <see cref="Kind"/> are ignored.
/// </summary>
public sealed class OptimizerSettings
{
    /// <summary>RMSprop's epsilon when <see cref="Epsilon"/> is not set: Keras' (the reference experiment's).</summary>
    public const double DefaultRmsPropEpsilon = 1e-7;

    /// <summary>Adam's and AdamW's epsilon when <see cref="Epsilon"/> is not set: PyTorch's.</summary>
    public const double DefaultAdamEpsilon = 1e-8;

    /// <summary>AdamW's weight decay when <see cref="WeightDecay"/> is not set: PyTorch's.</summary>
    public const double DefaultAdamWWeightDecay = 0.01;

    /// <summary>The update rule. Default <see cref="OptimizerKind.RmsProp"/>.</summary>
    public OptimizerKind Kind { get; set; } = OptimizerKind.RmsProp;

    /// <summary>The learning rate (each parameter group's is this times its scale). Default 0.001.</summary>
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>RMSprop: decay of the running average of squared gradients (PyTorch's <c>alpha</c>, Keras' <c>rho</c>), in [0, 1). Default 0.9.</summary>
    public double Rho { get; set; } = 0.9;

    /// <summary>Adam and AdamW: decay of the running average of gradients, in [0, 1). Default 0.9.</summary>
    public double Beta1 { get; set; } = 0.9;

    /// <summary>Adam and AdamW: decay of the running average of squared gradients, in [0, 1). Default 0.999.</summary>
    public double Beta2 { get; set; } = 0.999;

    /// <summary>
    /// RMSprop, Adam and AdamW: added to the denominator for stability; positive. Null (the default) for the kind's
    /// usual value: <see cref="DefaultRmsPropEpsilon"/> for RMSprop, <see cref="DefaultAdamEpsilon"/> for Adam and AdamW.
    /// </summary>
    public double? Epsilon { get; set; }

    /// <summary>SGD: momentum, in [0, 1). Default 0.9.</summary>
    public double Momentum { get; set; } = 0.9;

    /// <summary>SGD: whether the momentum is Nesterov's. Default false.</summary>
    public bool Nesterov { get; set; }

    /// <summary>
    /// Weight decay, at least 0: added to the gradient (L2) by RMSprop, Adam and SGD, applied to the weights by AdamW.
    /// Null (the default) for the kind's usual value: <see cref="DefaultAdamWWeightDecay"/> for AdamW, 0 for the others.
    /// </summary>
    public double? WeightDecay { get; set; }

    /// <summary>The epsilon used: <see cref="Epsilon"/>, or the kind's usual value.</summary>
    public double EffectiveEpsilon => Epsilon ?? (Kind == OptimizerKind.RmsProp ? DefaultRmsPropEpsilon : DefaultAdamEpsilon);

    /// <summary>The weight decay used: <see cref="WeightDecay"/>, or the kind's usual value.</summary>
    public double EffectiveWeightDecay => WeightDecay ?? (Kind == OptimizerKind.AdamW ? DefaultAdamWWeightDecay : 0);

    /// <summary>RMSprop as in Keras: <c>v ← ρ·v + (1 − ρ)·g²;  θ ← θ − lr·g / (√v + ε)</c>. The defaults are the reference experiment's.</summary>
    /// <param name="learningRate">The learning rate; positive.</param>
    /// <param name="rho">Decay of the squared-gradient average, in [0, 1).</param>
    /// <param name="epsilon">Added to the root of the squared-gradient average; positive.</param>
    /// <returns>New settings.</returns>
    public static OptimizerSettings RmsProp(double learningRate = 1e-3, double rho = 0.9, double epsilon = DefaultRmsPropEpsilon) =>
        new() { Kind = OptimizerKind.RmsProp, LearningRate = learningRate, Rho = rho, Epsilon = epsilon };

    /// <summary>Adam with PyTorch's defaults.</summary>
    /// <param name="learningRate">The learning rate; positive.</param>
    /// <param name="weightDecay">L2 weight decay added to the gradient; at least 0.</param>
    /// <returns>New settings.</returns>
    public static OptimizerSettings Adam(double learningRate = 1e-3, double weightDecay = 0) =>
        new() { Kind = OptimizerKind.Adam, LearningRate = learningRate, WeightDecay = weightDecay };

    /// <summary>AdamW with PyTorch's defaults.</summary>
    /// <param name="learningRate">The learning rate; positive.</param>
    /// <param name="weightDecay">Decoupled weight decay; at least 0.</param>
    /// <returns>New settings.</returns>
    public static OptimizerSettings AdamW(double learningRate = 1e-3, double weightDecay = DefaultAdamWWeightDecay) =>
        new() { Kind = OptimizerKind.AdamW, LearningRate = learningRate, WeightDecay = weightDecay };

    /// <summary>SGD with momentum.</summary>
    /// <param name="learningRate">The learning rate; positive.</param>
    /// <param name="momentum">Momentum, in [0, 1).</param>
    /// <param name="nesterov">Whether the momentum is Nesterov's (needs a positive momentum).</param>
    /// <param name="weightDecay">L2 weight decay added to the gradient; at least 0.</param>
    /// <returns>New settings.</returns>
    public static OptimizerSettings Sgd(double learningRate = 0.01, double momentum = 0.9, bool nesterov = false, double weightDecay = 0) =>
        new() { Kind = OptimizerKind.Sgd, LearningRate = learningRate, Momentum = momentum, Nesterov = nesterov, WeightDecay = weightDecay };

    /// <summary>Checks every setting that applies to <see cref="Kind"/> and names the first one that is wrong.</summary>
    /// <param name="owner">Where these settings live, for the message (for example "TrainerOptions.Optimizer").</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate(string owner = nameof(OptimizerSettings))
    {
        if (!Enum.IsDefined(Kind))
            throw new ArgumentOutOfRangeException(nameof(Kind), Kind, $"{owner}.Kind must be one of {string.Join(", ", Enum.GetNames<OptimizerKind>())}.");
        if (!double.IsFinite(LearningRate) || LearningRate <= 0)
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, $"{owner}.LearningRate must be positive and finite.");
        if (Kind == OptimizerKind.RmsProp && !InUnitInterval(Rho))
            throw new ArgumentOutOfRangeException(nameof(Rho), Rho, $"{owner}.Rho must be in [0, 1).");
        if (Kind is OptimizerKind.Adam or OptimizerKind.AdamW && !InUnitInterval(Beta1))
            throw new ArgumentOutOfRangeException(nameof(Beta1), Beta1, $"{owner}.Beta1 must be in [0, 1).");
        if (Kind is OptimizerKind.Adam or OptimizerKind.AdamW && !InUnitInterval(Beta2))
            throw new ArgumentOutOfRangeException(nameof(Beta2), Beta2, $"{owner}.Beta2 must be in [0, 1).");
        if (Epsilon is { } epsilon && (!double.IsFinite(epsilon) || epsilon <= 0))
            throw new ArgumentOutOfRangeException(nameof(Epsilon), epsilon, $"{owner}.Epsilon must be positive and finite.");
        if (Kind == OptimizerKind.Sgd && !InUnitInterval(Momentum))
            throw new ArgumentOutOfRangeException(nameof(Momentum), Momentum, $"{owner}.Momentum must be in [0, 1).");
        if (Kind == OptimizerKind.Sgd && Nesterov && Momentum == 0)
            throw new ArgumentOutOfRangeException(nameof(Nesterov), Nesterov, $"{owner}.Nesterov needs a positive {owner}.Momentum.");
        if (WeightDecay is { } decay && (!double.IsFinite(decay) || decay < 0))
            throw new ArgumentOutOfRangeException(nameof(WeightDecay), decay, $"{owner}.WeightDecay must be finite and at least 0.");
    }

    /// <summary>A copy of these settings.</summary>
    /// <returns>A new object with the same values.</returns>
    public OptimizerSettings Clone() => (OptimizerSettings)MemberwiseClone();

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        OptimizerKind.RmsProp => $"rmsprop(lr={LearningRate}, rho={Rho}, eps={EffectiveEpsilon}{Decay()})",
        OptimizerKind.Sgd => $"sgd(lr={LearningRate}, momentum={Momentum}{(Nesterov ? ", nesterov" : "")}{Decay()})",
        _ => $"{Kind.ToString().ToLowerInvariant()}(lr={LearningRate}, betas=({Beta1}, {Beta2}), eps={EffectiveEpsilon}{Decay()})",
    };

    private string Decay() => EffectiveWeightDecay == 0 ? "" : $", weight_decay={EffectiveWeightDecay}";

    private static bool InUnitInterval(double value) => double.IsFinite(value) && value >= 0 && value < 1;
}
