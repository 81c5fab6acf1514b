namespace MetricLearning;

/// <summary>
/// An embedding network that changes how it trains from one epoch to the next, such as a pretrained trunk kept
/// frozen for the first epochs. Optional: the trainers call <see cref="BeginEpoch"/> when it is implemented.
/// </summary>
/// <remarks>
/// Called at the start of every epoch, after the trainer has put the module in training mode and before the
/// epoch's first step, including the first epoch of a resumed run, so that a resumed run trains as the uninterrupted
/// one would. Called on the training thread.
/// </remarks>
public interface IEpochAware
{
    /// <summary>Prepares for an epoch.</summary>
    /// <param name="epoch">The epoch about to run, from 1.</param>
    void BeginEpoch(int epoch);
}
