using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using static TorchSharp.torch;

namespace MetricLearning.Training;

/// <summary>One of TorchSharp's optimizers (Adam, AdamW, SGD, RMSprop with several groups) behind <see cref="IStepOptimizer"/>.</summary>
internal sealed class TorchOptimizer : IStepOptimizer
{
    private readonly optim.Optimizer _optimizer;
    private readonly IReadOnlyList<optim.ILearningRateController> _groups;

    internal TorchOptimizer(optim.Optimizer optimizer)
    {
        _optimizer = optimizer;
        _groups = optimizer.ParamGroups.ToList();
    }

    /// <summary>The wrapped optimizer.</summary>
    internal optim.Optimizer Optimizer => _optimizer;

    public int GroupCount => _groups.Count;

    public double GetLearningRate(int group) => _groups[group].LearningRate;

    public void SetLearningRate(int group, double learningRate) => _groups[group].LearningRate = learningRate;

    public void ZeroGrad() => _optimizer.zero_grad();

    public void Step() => _optimizer.step();

    public byte[] SaveState()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
            ((TorchSharp.Modules.OptimizerHelper)_optimizer).save_state_dict(writer);
        return stream.ToArray();
    }

    public void LoadState(byte[] state)
    {
        using var reader = new BinaryReader(new MemoryStream(state, writable: false));
        try
        {
            ((TorchSharp.Modules.OptimizerHelper)_optimizer).load_state_dict(reader);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new InvalidDataException($"The optimizer state does not fit this {_optimizer.GetType().Name} optimizer: {ex.Message}", ex);
        }

        if (reader.BaseStream.Position != state.Length)
            throw new InvalidDataException($"The optimizer state has {state.Length - reader.BaseStream.Position} bytes this {_optimizer.GetType().Name} optimizer did not read.");
    }

    public void Dispose() => _optimizer.Dispose();
}
