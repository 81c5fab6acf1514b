using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace MetricLearning.Models;

/// <summary>
/// Serves many concurrent callers of a <see cref="TrainedModel"/> with batched forward passes: requests wait in a
/// bounded queue, one worker takes as many as fit in <see cref="EmbeddingBatcherOptions.MaxBatchSize"/> inputs (waiting
/// at most <see cref="EmbeddingBatcherOptions.MaxWait"/> for the batch to fill), embeds them in one pass, and hands each
/// caller its rows.
/// </summary>
/// <remarks>
/// <para>
/// Each request is checked when it is made (input length, finite values), so a bad input fails its own call at once
/// and never the batch. A request's inputs stay together in one batch, so a call with several inputs gets exactly the
/// rows <see cref="TrainedModel.Embed(IReadOnlyList{float[]})"/> would give for them when no other request shares the
/// pass (rows of a larger pass can differ from a smaller one's in the last bits, as the matrix kernels differ). A
/// request cancelled before its batch runs is dropped; if a forward pass fails, only the requests in that batch fail,
/// with its exception.
/// </para>
/// <para>
/// Give torch fewer threads than the machine has cores (<c>TorchRuntime.SetThreadCount</c>): the callers need CPU
/// too. Measured on 2 cores with 64 callers (<c>bench serve</c>): with one torch thread batching served 6.0 times the
/// embeddings of one-at-a-time calls, with two only 2.7 times. A lone caller is better served by
/// <see cref="TrainedModel.Embed(ReadOnlySpan{float})"/> directly.
/// </para>
/// <para>
/// Safe to use from many threads. Dispose it to stop: new requests then fail with <see cref="ObjectDisposedException"/>,
/// requests already queued are still served, and disposal returns when the worker has finished.
/// </para>
/// </remarks>
public sealed class EmbeddingBatcher : IDisposable, IAsyncDisposable
{
    private readonly RequestBatcher _batcher;

    /// <summary>Creates the batcher and starts its worker.</summary>
    /// <param name="model">The model to serve; it stays the caller's to dispose, after the batcher.</param>
    /// <param name="options">Batching settings; null for the defaults. Copied and validated.</param>
    public EmbeddingBatcher(TrainedModel model, EmbeddingBatcherOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        var settings = (options ?? new EmbeddingBatcherOptions()).Clone();
        settings.Validate();
        _batcher = new RequestBatcher(model.Embed, settings.MaxBatchSize, settings.MaxWait, settings.QueueCapacity, nameof(EmbeddingBatcher));
    }

    /// <summary>The model served.</summary>
    public TrainedModel Model { get; }

    /// <summary>Forward passes run so far (for tests and benchmarks).</summary>
    internal long Batches => _batcher.Batches;

    /// <summary>Embeds one raw input, batched with other callers' requests.</summary>
    /// <param name="input">The values of one input, row-major in the model's input shape.</param>
    /// <param name="cancellationToken">Cancels the request while it waits.</param>
    /// <returns>The embedding.</returns>
    /// <exception cref="ArgumentException">The input has the wrong length or holds a value that is not finite.</exception>
    /// <exception cref="ObjectDisposedException">The batcher is disposed.</exception>
    public async Task<float[]> EmbedAsync(float[] input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        return (await EmbedAsync(new[] { input }, cancellationToken).ConfigureAwait(false))[0];
    }

    /// <summary>Embeds raw inputs as one request: they run in the same forward pass, possibly with other callers' requests.</summary>
    /// <param name="inputs">One array per input, each row-major in the model's input shape.</param>
    /// <param name="cancellationToken">Cancels the request while it waits.</param>
    /// <returns>One embedding per input, in order.</returns>
    /// <exception cref="ArgumentException">An input has the wrong length or holds a value that is not finite.</exception>
    /// <exception cref="ObjectDisposedException">The batcher is disposed.</exception>
    public async Task<float[][]> EmbedAsync(IReadOnlyList<float[]> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ObjectDisposedException.ThrowIf(_batcher.IsDisposed, this);
        // The list is copied before it is checked, so that what was checked is what the batch reads.
        var checkedInputs = inputs.ToArray();
        for (int i = 0; i < checkedInputs.Length; i++)
            Model.CheckInput(checkedInputs[i] ?? throw new ArgumentException($"Input {i} is null.", nameof(inputs)), $"{nameof(inputs)}[{i}]");
        return await _batcher.EmbedAsync(checkedInputs, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops taking requests, serves those already queued, and waits for the worker to finish.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync() => _batcher.DisposeAsync();
}
