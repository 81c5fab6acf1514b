using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MetricLearning.Models;
using MetricLearning.Distances;
using Microsoft.ML.OnnxRuntime;

namespace MetricLearning.Onnx;

/// <summary>
/// A model exported to ONNX (by <c>TrainedModel.ExportOnnx</c>) served by ONNX Runtime, without libtorch: raw inputs
/// in (the model's preprocessing is inside the graph), embeddings out, compared and verified with the distance and
/// threshold saved with it.
/// </summary>
/// <remarks>
/// <para>
/// The file is checked before ONNX Runtime reads it: a file that is not ONNX, not exported by MetricLearning, or
/// damaged (its checksum covers the graph, weights included, and the description) is refused naming it. Inputs are
/// checked before they reach the runtime: wrong lengths and values that are not finite are argument errors.
/// </para>
/// <para>
/// Thread-safe: <see cref="Embed(ReadOnlySpan{float})"/> and the other synchronous methods run on the caller's thread
/// (ONNX Runtime runs concurrent calls side by side); <see cref="EmbedAsync(float[], CancellationToken)"/> gathers
/// concurrent callers' requests into batches of up to <see cref="OnnxModelOptions.MaxBatchSize"/> inputs, one run
/// each. Dispose it when done; queued requests are served first.
/// </para>
/// </remarks>
public sealed class OnnxEmbeddingModel : IDisposable, IAsyncDisposable
{
    private readonly InferenceSession _session;
    private readonly RequestBatcher _batcher;
    private readonly long[] _inputShape;
    private readonly int _inputLength;
    private readonly string[]? _classNames;
    // Runs hold it shared, disposal exclusively: the session is never freed under a run.
    private readonly ReaderWriterLockSlim _lifetime = new();
    private bool _disposed;

    private OnnxEmbeddingModel(string path, OnnxModelFile file, InferenceSession session, OnnxModelOptions options)
    {
        Path = path;
        _session = session;
        _inputShape = file.InputShape;
        _inputLength = checked((int)file.InputShape.Aggregate(1L, (product, size) => product * size));
        _classNames = file.ClassNames;
        EmbeddingSize = file.EmbeddingSize;
        Threshold = file.Threshold;
        Distance = file.Distance;
        LibraryVersion = file.Metadata.GetValueOrDefault(OnnxMetadataKeys.LibraryVersion, "unknown");
        Network = file.Metadata.GetValueOrDefault(OnnxMetadataKeys.Network, "unknown");
        _batcher = new RequestBatcher(Run, options.MaxBatchSize, options.MaxWait, options.QueueCapacity, nameof(OnnxEmbeddingModel));
    }

    /// <summary>The file the model was loaded from (full path).</summary>
    public string Path { get; }

    /// <summary>The shape of one raw input.</summary>
    public IReadOnlyList<long> InputShape => _inputShape;

    /// <summary>The width of the embeddings.</summary>
    public int EmbeddingSize { get; }

    /// <summary>How embeddings are compared: the distance the model was trained with.</summary>
    public EmbeddingDistance Distance { get; }

    /// <summary>The verification threshold: pairs closer than this (more similar, for a similarity) are "same class".</summary>
    public double Threshold { get; }

    /// <summary>The name of each class number, or null when the model was not trained on named classes.</summary>
    public IReadOnlyList<string>? ClassNames => _classNames;

    /// <summary>The network's part name, as the exporting model described it (<c>MlpEmbeddingNetwork</c>).</summary>
    public string Network { get; }

    /// <summary>The MetricLearning version that exported the model.</summary>
    public string LibraryVersion { get; }

    /// <summary>Loads a model exported by <c>TrainedModel.ExportOnnx</c>.</summary>
    /// <param name="path">The ONNX file.</param>
    /// <param name="options">Threads and batching; null for the defaults. Copied and validated.</param>
    /// <returns>The model; dispose it.</returns>
    /// <exception cref="FileNotFoundException">There is no file at the path.</exception>
    /// <exception cref="InvalidDataException">The file is not ONNX, not a model MetricLearning exported, damaged (or rewritten by another tool), or its graph does not match its description; the message names it.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static OnnxEmbeddingModel Load(string path, OnnxModelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var settings = (options ?? new OnnxModelOptions()).Clone();
        settings.Validate();
        string full = System.IO.Path.GetFullPath(path);
        var file = OnnxModelFile.Read(full);

        InferenceSession session;
        try
        {
            using var sessionOptions = new SessionOptions
            {
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                IntraOpNumThreads = settings.Threads,
                InterOpNumThreads = 1,
            };
            session = new InferenceSession(file.Bytes, sessionOptions);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidDataException($"ONNX Runtime cannot load '{full}': {ex.Message}", ex);
        }

        try
        {
            CheckSignature(session, file, full);
            return new OnnxEmbeddingModel(full, file, session, settings);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Embeds one raw input.</summary>
    /// <param name="input">The values of one input, row-major in <see cref="InputShape"/>.</param>
    /// <returns>The embedding.</returns>
    /// <exception cref="ArgumentException">The input has the wrong length or holds a value that is not finite.</exception>
    /// <exception cref="ObjectDisposedException">The model is disposed.</exception>
    public float[] Embed(ReadOnlySpan<float> input)
    {
        CheckInput(input, nameof(input));
        var values = ArrayPool<float>.Shared.Rent(_inputLength);
        try
        {
            input.CopyTo(values);
            return Run(values, 1)[0];
        }
        finally
        {
            ArrayPool<float>.Shared.Return(values);
        }
    }

    /// <summary>Embeds raw inputs in one run.</summary>
    /// <param name="inputs">One array per input, each row-major in <see cref="InputShape"/>.</param>
    /// <returns>One embedding per input, in order.</returns>
    /// <exception cref="ArgumentException">An input is null, has the wrong length or holds a value that is not finite.</exception>
    /// <exception cref="ObjectDisposedException">The model is disposed.</exception>
    public float[][] Embed(IReadOnlyList<float[]> inputs)
    {
        CheckInputs(inputs);
        return Run(inputs);
    }

    /// <summary>Embeds one raw input, batched with other callers' requests.</summary>
    /// <param name="input">The values of one input, row-major in <see cref="InputShape"/>.</param>
    /// <param name="cancellationToken">Cancels the request while it waits.</param>
    /// <returns>The embedding.</returns>
    /// <exception cref="ArgumentException">The input has the wrong length or holds a value that is not finite.</exception>
    /// <exception cref="ObjectDisposedException">The model is disposed.</exception>
    public async Task<float[]> EmbedAsync(float[] input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        return (await EmbedAsync(new[] { input }, cancellationToken).ConfigureAwait(false))[0];
    }

    /// <summary>Embeds raw inputs as one request: they run together, possibly with other callers' requests.</summary>
    /// <param name="inputs">One array per input, each row-major in <see cref="InputShape"/>.</param>
    /// <param name="cancellationToken">Cancels the request while it waits.</param>
    /// <returns>One embedding per input, in order.</returns>
    /// <exception cref="ArgumentException">An input is null, has the wrong length or holds a value that is not finite.</exception>
    /// <exception cref="ObjectDisposedException">The model is disposed.</exception>
    public async Task<float[][]> EmbedAsync(IReadOnlyList<float[]> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ObjectDisposedException.ThrowIf(_batcher.IsDisposed, this);
        // The list is copied before it is checked, so that what was checked is what the batch reads.
        var checkedInputs = inputs.ToArray();
        CheckInputs(checkedInputs);
        return await _batcher.EmbedAsync(checkedInputs, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs of the batched path so far (for tests and benchmarks).</summary>
    internal long Batches => _batcher.Batches;

    /// <summary>The distance (or similarity, see <see cref="EmbeddingDistance.IsSimilarity"/>) between two raw inputs' embeddings.</summary>
    /// <param name="first">The values of one input, row-major in <see cref="InputShape"/>.</param>
    /// <param name="second">The values of another.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentException">An input has the wrong length or holds a value that is not finite.</exception>
    /// <exception cref="ObjectDisposedException">The model is disposed.</exception>
    public double Compare(ReadOnlySpan<float> first, ReadOnlySpan<float> second)
    {
        CheckInput(first, nameof(first));
        CheckInput(second, nameof(second));
        var values = new float[_inputLength * 2];
        first.CopyTo(values);
        second.CopyTo(values.AsSpan(_inputLength));
        var rows = Run(values, 2);
        return Distance.Compute(rows[0], rows[1]);
    }

    /// <summary>Whether two raw inputs are predicted to be of the same class (compared with <see cref="Threshold"/>).</summary>
    /// <param name="first">The values of one input, row-major in <see cref="InputShape"/>.</param>
    /// <param name="second">The values of another.</param>
    /// <returns>True for "same class".</returns>
    /// <exception cref="ArgumentException">An input has the wrong length or holds a value that is not finite.</exception>
    /// <exception cref="ObjectDisposedException">The model is disposed.</exception>
    public bool Verify(ReadOnlySpan<float> first, ReadOnlySpan<float> second)
    {
        double score = Compare(first, second);
        return Distance.IsSimilarity ? score > Threshold : score < Threshold;
    }

    private float[][] Run(IReadOnlyList<float[]> inputs)
    {
        if (inputs.Count == 0)
            return Array.Empty<float[]>();
        int total = checked(inputs.Count * _inputLength);
        // A pooled buffer: batches of images are large arrays, and a fresh one per call would churn the large-object heap.
        var values = ArrayPool<float>.Shared.Rent(total);
        try
        {
            for (int i = 0; i < inputs.Count; i++)
                inputs[i].CopyTo(values, i * _inputLength);
            return Run(values, inputs.Count);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(values);
        }
    }

    /// <summary>Embeds the first <paramref name="count"/> inputs held in <paramref name="values"/> (which may be longer, a pooled buffer).</summary>
    private float[][] Run(float[] values, int count)
    {
        _lifetime.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return RunSession(values, count);
        }
        finally
        {
            _lifetime.ExitReadLock();
        }
    }

    private float[][] RunSession(float[] values, int count)
    {
        var shape = new long[_inputShape.Length + 1];
        shape[0] = count;
        _inputShape.CopyTo(shape, 1);
        // The runtime reads the tensor in place from managed memory, pinned for the run: no copy.
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, values.AsMemory(0, count * _inputLength), shape);
        using var runOptions = new RunOptions();
        IDisposableReadOnlyCollection<OrtValue> outputs;
        try
        {
            outputs = _session.Run(runOptions, InputNames, new[] { input }, OutputNames);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidDataException($"ONNX Runtime failed to run '{Path}' on {count} input(s): {ex.Message}", ex);
        }

        using var _ = outputs;
        var output = outputs[0];
        var outputShape = output.GetTensorTypeAndShape().Shape;
        if (outputShape.Length != 2 || outputShape[0] != count || outputShape[1] != EmbeddingSize)
            throw new InvalidDataException($"'{Path}' gave embeddings of shape [{string.Join(", ", outputShape)}] for {count} inputs; its description says [{count}, {EmbeddingSize}].");
        ReadOnlySpan<float> flat = output.GetTensorDataAsSpan<float>();
        var rows = new float[count][];
        for (int i = 0; i < count; i++)
            rows[i] = flat.Slice(i * EmbeddingSize, EmbeddingSize).ToArray();
        return rows;
    }

    private static readonly string[] InputNames = { OnnxMetadataKeys.InputName };
    private static readonly string[] OutputNames = { OnnxMetadataKeys.OutputName };

    private void CheckInputs(IReadOnlyList<float[]> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        for (int i = 0; i < inputs.Count; i++)
            CheckInput(inputs[i] ?? throw new ArgumentException($"Input {i} is null.", nameof(inputs)), $"{nameof(inputs)}[{i}]");
    }

    private void CheckInput(ReadOnlySpan<float> input, string name)
    {
        if (input.Length != _inputLength)
            throw new ArgumentException(
                $"'{name}' has {input.Length} values; this model's inputs have shape [{string.Join(", ", _inputShape)}], {_inputLength} values.", name);
        for (int i = 0; i < input.Length; i++)
        {
            if (!float.IsFinite(input[i]))
                throw new ArgumentException($"'{name}' holds {input[i]} at position {i}; inputs must be finite.", name);
        }
    }

    /// <summary>The graph reads <c>input</c> [batch, ...shape] and writes <c>embedding</c> [batch, width] in float32, as the description says.</summary>
    private static void CheckSignature(InferenceSession session, OnnxModelFile file, string path)
    {
        if (!session.InputMetadata.TryGetValue(OnnxMetadataKeys.InputName, out var input) || session.InputMetadata.Count != 1)
            throw new InvalidDataException($"'{path}' must have one input named '{OnnxMetadataKeys.InputName}'; it has {string.Join(", ", session.InputMetadata.Keys)}.");
        if (!session.OutputMetadata.TryGetValue(OnnxMetadataKeys.OutputName, out var output))
            throw new InvalidDataException($"'{path}' has no output named '{OnnxMetadataKeys.OutputName}'.");
        if (input.ElementType != typeof(float) || output.ElementType != typeof(float))
            throw new InvalidDataException($"'{path}' must read and write float32 tensors.");
        var expectedInput = file.InputShape.Select(size => (int)size);
        if (input.Dimensions.Length != file.InputShape.Length + 1 || !input.Dimensions.Skip(1).SequenceEqual(expectedInput))
            throw new InvalidDataException($"'{path}' reads inputs [{string.Join(", ", input.Dimensions)}], but its description gives the input shape [{string.Join(", ", file.InputShape)}].");
        if (output.Dimensions.Length != 2 || output.Dimensions[1] != file.EmbeddingSize)
            throw new InvalidDataException($"'{path}' writes embeddings [{string.Join(", ", output.Dimensions)}], but its description gives the width {file.EmbeddingSize}.");
    }

    /// <summary>Stops taking batched requests, serves those queued, and frees the runtime's session.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc cref="Dispose"/>
    public async ValueTask DisposeAsync()
    {
        await _batcher.DisposeAsync().ConfigureAwait(false);
        _lifetime.EnterWriteLock();
        try
        {
            if (_disposed)
                return;
            _disposed = true;
            _session.Dispose();
        }
        finally
        {
            _lifetime.ExitWriteLock();
        }
    }
}
