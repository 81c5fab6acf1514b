using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using MetricLearning.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Models;

/// <summary>
/// A trained model ready for use: an embedding network, its distance, the preprocessing of its raw inputs, a
/// verification threshold and, when trained on named classes, the class names; saved as a folder holding
/// <c>weights.bin</c> and a small <c>model.json</c> description.
/// </summary>
/// <remarks>
/// <para>
/// Inputs are raw, as the data the model was trained on held them (MNIST: pixel values 0 to 255); the model applies
/// its <see cref="Preprocessing"/> before the network, so embeddings after a load are those of training. Plain .NET
/// data goes in and out: <see cref="Embed(ReadOnlySpan{float})"/>, <see cref="Compare"/> and
/// <see cref="Verify(ReadOnlySpan{float}, ReadOnlySpan{float})"/>; tensors remain available.
/// </para>
/// <para>
/// Saving writes the weights, then the description (each atomically: a temporary file, then a rename); the
/// description records the weights' SHA-256, so a folder whose two files do not belong together is refused on load.
/// Every part (network, distance, preprocessing) is saved through its <see cref="IPartFormat"/>, by name with its
/// settings, and rebuilt on load; the library's parts and yours alike (a part of your own without a format is saved
/// by type name and rebuilt by a factory registered in <see cref="ModelComponents"/>).
/// </para>
/// <para>
/// Thread-safety: every method may be called from many threads at once (calls run the network one at a time, and
/// give exactly the results of sequential calls). Do not use <see cref="Network"/> directly while others call the
/// model. The model owns its network; dispose it.
/// </para>
/// </remarks>
public sealed class TrainedModel : IDisposable
{
    /// <summary>The description format this version writes; it also reads <c>metriclearning-model/2</c>.</summary>
    public const string Format = ModelDescription.FormatName;
    private const long MaxInputValues = 1L << 28;
    private readonly object _gate = new();
    private readonly long[]? _inputShape;
    private readonly string[]? _classNames;
    private bool _disposed;

    /// <summary>Wraps a trained network; takes ownership of it.</summary>
    /// <param name="network">The embedding network.</param>
    /// <param name="distance">How embeddings are compared.</param>
    /// <param name="threshold">Pairs closer than this (more similar, for a similarity) are "same class".</param>
    /// <param name="preprocessing">What turns raw inputs into network inputs; null for none (<see cref="InputScaling.Identity"/>).</param>
    /// <param name="inputShape">The shape of one raw input, needed to embed plain arrays; null to take the network's (<see cref="IFixedInputShape"/>), if it has one.</param>
    /// <param name="classNames">The name of each class number, or null.</param>
    /// <exception cref="ArgumentException">The threshold is not finite; the input shape has a size below 1, holds more than 2²⁸ values
    /// or differs in size from the network's fixed input; or a class name is null.</exception>
    public TrainedModel(
        IEmbeddingNetwork network,
        IDistance distance,
        double threshold,
        IInputPreprocessing? preprocessing = null,
        IReadOnlyList<long>? inputShape = null,
        IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(distance);
        if (!double.IsFinite(threshold))
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold must be finite.");
        if (inputShape is not null && (inputShape.Count == 0 || inputShape.Any(size => size < 1)))
            throw new ArgumentException($"The input shape must have sizes of at least 1; got [{string.Join(", ", inputShape)}].", nameof(inputShape));
        if (classNames is not null && classNames.Any(name => name is null))
            throw new ArgumentException("A class name is null.", nameof(classNames));
        long values = 1;
        foreach (long size in inputShape ?? Array.Empty<long>())
        {
            values = size <= MaxInputValues / values ? values * size : throw new ArgumentException(
                $"The input shape [{string.Join(", ", inputShape!)}] holds more than {MaxInputValues} values per input.", nameof(inputShape));
        }

        long? fixedValues = (network as IFixedInputShape)?.InputShape.Aggregate(1L, (product, size) => product * size);
        if (fixedValues is not null && inputShape is not null && values != fixedValues)
            throw new ArgumentException(
                $"The input shape [{string.Join(", ", inputShape)}] holds {values} values, but the network reads {fixedValues}.", nameof(inputShape));
        Network = network;
        Distance = distance;
        Threshold = threshold;
        Preprocessing = preprocessing ?? InputScaling.Identity;
        _inputShape = inputShape?.ToArray() ?? (network as IFixedInputShape)?.InputShape.ToArray();
        _classNames = classNames?.ToArray();
    }

    /// <summary>
    /// Wraps a Siamese model trained on <paramref name="trainedOn"/>, keeping that data's preprocessing, input shape
    /// and class names; takes ownership of the model's network.
    /// </summary>
    /// <param name="model">The trained network and its distance.</param>
    /// <param name="threshold">Pairs closer than this (more similar, for a similarity) are "same class".</param>
    /// <param name="trainedOn">The training data.</param>
    public TrainedModel(SiameseNetwork model, double threshold, LabelledData trainedOn)
        : this(
            (model ?? throw new ArgumentNullException(nameof(model))).Embedding,
            model.Distance,
            threshold,
            (trainedOn ?? throw new ArgumentNullException(nameof(trainedOn))).Inputs.Preprocessing,
            trainedOn.Inputs.InputShape,
            trainedOn.ClassNames)
    {
    }

    /// <summary>The embedding network.</summary>
    public IEmbeddingNetwork Network { get; }

    /// <summary>How embeddings are compared.</summary>
    public IDistance Distance { get; }

    /// <summary>The verification threshold.</summary>
    public double Threshold { get; }

    /// <summary>What turns raw inputs into network inputs.</summary>
    public IInputPreprocessing Preprocessing { get; }

    /// <summary>The shape of one raw input, or null when unknown (then only tensors can be embedded).</summary>
    public IReadOnlyList<long>? InputShape => _inputShape;

    /// <summary>The name of each class number, or null when the model was not trained on named classes.</summary>
    public IReadOnlyList<string>? ClassNames => _classNames;

    /// <summary>The device of the network's weights.</summary>
    public Device Device => Network.Module.parameters().FirstOrDefault()?.device ?? CPU;

    /// <summary>Embeds raw inputs with dropout off.</summary>
    /// <param name="inputs">Raw inputs <c>[N, ...]</c> on the model's device; the model's preprocessing is applied.</param>
    /// <returns>Shape <c>[N, EmbeddingSize]</c>, in the caller's dispose scope.</returns>
    public Tensor Embed(Tensor inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var noGrad = no_grad();
            Network.Module.eval();
            using var prepared = InputSet.Prepare(Preprocessing, inputs);
            return Network.Module.call(prepared);
        }
    }

    /// <summary>Embeds one raw input given as plain values.</summary>
    /// <param name="input">The values of one input, row-major in <see cref="InputShape"/>.</param>
    /// <returns>The embedding.</returns>
    /// <exception cref="ArgumentException">The input has the wrong length or holds a value that is not finite.</exception>
    /// <exception cref="InvalidOperationException">The model does not know its input shape.</exception>
    public float[] Embed(ReadOnlySpan<float> input) => EmbedRows(input, 1)[0];

    /// <summary>Embeds raw inputs given as plain arrays, in one batch.</summary>
    /// <param name="inputs">One array per input, each row-major in <see cref="InputShape"/>.</param>
    /// <returns>One embedding per input, in order.</returns>
    /// <exception cref="ArgumentException">An input has the wrong length or holds a value that is not finite.</exception>
    /// <exception cref="InvalidOperationException">The model does not know its input shape.</exception>
    public float[][] Embed(IReadOnlyList<float[]> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0)
            return Array.Empty<float[]>();
        int size = checked((int)InputLength());
        // A pooled buffer: batches of images are large arrays, and a fresh one per call would churn the large-object heap.
        var values = ArrayPool<float>.Shared.Rent(checked(inputs.Count * size));
        try
        {
            for (int i = 0; i < inputs.Count; i++)
            {
                var input = inputs[i] ?? throw new ArgumentException($"Input {i} is null.", nameof(inputs));
                CheckInput(input, $"{nameof(inputs)}[{i}]");
                input.CopyTo(values, i * size);
            }

            return EmbedRows(values.AsSpan(0, inputs.Count * size), inputs.Count);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(values);
        }
    }

    /// <summary>The distance (or similarity, see <see cref="IDistance.IsSimilarity"/>) between two raw inputs' embeddings.</summary>
    /// <param name="first">The values of one input, row-major in <see cref="InputShape"/>.</param>
    /// <param name="second">The values of another.</param>
    /// <exception cref="ArgumentException">An input has the wrong length or holds a value that is not finite.</exception>
    /// <exception cref="InvalidOperationException">The model does not know its input shape.</exception>
    public double Compare(ReadOnlySpan<float> first, ReadOnlySpan<float> second)
    {
        CheckInput(first, nameof(first));
        CheckInput(second, nameof(second));
        var values = new float[first.Length * 2];
        first.CopyTo(values);
        second.CopyTo(values.AsSpan(first.Length));
        using var scope = NewDisposeScope();
        using var inputs = InputTensor(values, 2);
        var embeddings = Embed(inputs);
        return Distance.Compute(embeddings.narrow(0, 0, 1), embeddings.narrow(0, 1, 1)).to_type(ScalarType.Float64).cpu().item<double>();
    }

    /// <summary>Whether two raw inputs are predicted to be of the same class (compared with <see cref="Threshold"/>).</summary>
    /// <param name="first">The values of one input, row-major in <see cref="InputShape"/>.</param>
    /// <param name="second">The values of another.</param>
    /// <exception cref="ArgumentException">An input has the wrong length or holds a value that is not finite.</exception>
    /// <exception cref="InvalidOperationException">The model does not know its input shape.</exception>
    public bool Verify(ReadOnlySpan<float> first, ReadOnlySpan<float> second) => IsSame(Compare(first, second));

    /// <summary>Whether each pair (row i of each batch) is predicted to be of the same class.</summary>
    /// <param name="first">Raw inputs <c>[N, ...]</c> on the model's device.</param>
    /// <param name="second">Raw inputs of the same shape.</param>
    public bool[] Verify(Tensor first, Tensor second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        TensorChecks.SameShape(first, nameof(first), second, nameof(second));
        using var scope = NewDisposeScope();
        var scores = Distance.Compute(Embed(first), Embed(second)).to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        return scores.Select(IsSame).ToArray();
    }

    private bool IsSame(double score) => Distance.IsSimilarity ? score > Threshold : score < Threshold;

    private float[][] EmbedRows(ReadOnlySpan<float> values, int count)
    {
        if (count == 1)
            CheckInput(values, "input");
        using var scope = NewDisposeScope();
        using var inputs = InputTensor(values, count);
        var embeddings = Embed(inputs).to_type(ScalarType.Float32).cpu().contiguous();
        int width = (int)embeddings.shape[1];
        // Read straight from the tensor's memory: one copy per row, no intermediate array.
        ReadOnlySpan<float> flat = MemoryMarshal.Cast<byte, float>(embeddings.bytes);
        var rows = new float[count][];
        for (int i = 0; i < count; i++)
            rows[i] = flat.Slice(i * width, width).ToArray();
        return rows;
    }

    /// <summary>The values as a tensor of <c>[count, InputShape...]</c> on the model's device, copied once into native memory.</summary>
    private Tensor InputTensor(ReadOnlySpan<float> values, int count)
    {
        var shape = new long[_inputShape!.Length + 1];
        shape[0] = count;
        _inputShape.CopyTo(shape, 1);
        using var host = empty(shape, dtype: ScalarType.Float32);
        // The setter copies from the span; it takes a Span<byte> but does not write to it.
        host.bytes = MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(values), values.Length));
        return host.to(Device);
    }

    private long InputLength()
    {
        if (_inputShape is null)
            throw new InvalidOperationException(
                "This model does not know the shape of its inputs, so it cannot embed plain arrays; create it with an inputShape, or embed tensors.");
        return _inputShape.Aggregate(1L, (product, size) => product * size);
    }

    internal void CheckInput(ReadOnlySpan<float> input, string name)
    {
        long length = InputLength();
        if (input.Length != length)
            throw new ArgumentException(
                $"'{name}' has {input.Length} values; this model's inputs have shape [{string.Join(", ", _inputShape!)}], {length} values.", name);
        for (int i = 0; i < input.Length; i++)
        {
            if (!float.IsFinite(input[i]))
                throw new ArgumentException($"'{name}' holds {input[i]} at position {i}; inputs must be finite.", name);
        }
    }

    /// <summary>Saves the model into <paramref name="folder"/> (created if missing).</summary>
    /// <param name="folder">The folder; <c>weights.bin</c> and <c>model.json</c> in it are replaced.</param>
    /// <exception cref="InvalidOperationException">A part of the model has settings that cannot be written (the inner exception says why); nothing is written then.</exception>
    public void Save(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ModelFolder.Save(this, folder);
        }
    }

    /// <summary>Loads a model saved by <see cref="Save"/> whose parts all have formats (the library's do; see <see cref="IPartFormat"/>).</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="device">Where to put the weights; the CPU if null.</param>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">The description is of another format, names a part no format builds, does not match the weights, or the weights do not fit the network.</exception>
    public static TrainedModel Load(string folder, Device? device = null) => ModelFolder.Load(folder, null, device);

    /// <summary>Loads a model saved by <see cref="Save"/>, building the parts of your own with the formats and factories registered in <paramref name="components"/>.</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="components">Formats and factories for your own network, distance or preprocessing.</param>
    /// <param name="device">Where to put the weights; the CPU if null.</param>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">The description is of another format, names a part no format or factory builds, does not match the weights, or the weights do not fit the network built.</exception>
    public static TrainedModel Load(string folder, ModelComponents components, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(components);
        return ModelFolder.Load(folder, components, device);
    }

    /// <summary>Throws when the model is disposed (for code that reads its network's weights, such as exporters).</summary>
    internal void ThrowIfDisposed()
    {
        lock (_gate)
            ObjectDisposedException.ThrowIf(_disposed, this);
    }

    internal static void DisposeNetwork(IEmbeddingNetwork network)
    {
        if (network is IDisposable disposable)
            disposable.Dispose();
        else
            network.Module.Dispose();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            DisposeNetwork(Network);
        }
    }
}
