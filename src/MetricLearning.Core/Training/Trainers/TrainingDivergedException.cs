using System;
using System.Globalization;

namespace MetricLearning.Training;

/// <summary>
/// Thrown by the trainers when an epoch's mean loss is not a finite number: the weights have diverged (or the inputs
/// hold NaN or infinite values), and every later step would only spread the NaNs.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception for the epoch whose loss was not finite.</summary>
    /// <param name="epoch">The epoch, from 1.</param>
    /// <param name="loss">Its mean loss (NaN or infinite).</param>
    public TrainingDivergedException(int epoch, double loss)
        : base(string.Create(CultureInfo.InvariantCulture,
            $"Training diverged at epoch {epoch}: the mean loss is {loss}. Lower the learning rate, and check that the inputs hold no NaN or infinite values."))
    {
        Epoch = epoch;
        Loss = loss;
    }

    /// <summary>The epoch whose loss was not finite, from 1.</summary>
    public int Epoch { get; }

    /// <summary>That epoch's mean loss.</summary>
    public double Loss { get; }
}
