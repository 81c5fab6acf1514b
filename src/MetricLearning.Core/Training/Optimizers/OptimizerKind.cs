namespace MetricLearning.Training;

/// <summary>The update rule a trainer applies to the gradients; see <see cref="OptimizerSettings"/>.</summary>
public enum OptimizerKind
{
    /// <summary>RMSprop without momentum or centring, as in Keras (the reference experiment's optimizer).</summary>
    RmsProp,

    /// <summary>Adam (Kingma and Ba), with weight decay added to the gradient (L2), as PyTorch's <c>Adam</c>.</summary>
    Adam,

    /// <summary>AdamW (Loshchilov and Hutter): Adam with weight decay applied to the weights directly.</summary>
    AdamW,

    /// <summary>Stochastic gradient descent with (optionally Nesterov) momentum, as PyTorch's <c>SGD</c>.</summary>
    Sgd,
}
