using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Channels;
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
    private readonly Channel<Request> _queue;
    private readonly EmbeddingBatcherOptions _options;
    private readonly Task _worker;
    private int _disposed;
    private long _batches;

    /// <summary>Creates the batcher and starts its worker.</summary>
    /// <param name="model">The model to serve; it stays the caller's to dispose, after the batcher.</param>
    /// <param name="options">Batching settings; null for the defaults. Copied and validated.</param>
    public EmbeddingBatcher(TrainedModel model, EmbeddingBatcherOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        _options = (options ?? new EmbeddingBatcherOptions()).Clone();
        _options.Validate();
        _queue = Channel.CreateBounded<Request>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        _worker = Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    /// <summary>The model served.</summary>
    public TrainedModel Model { get; }

    /// <summary>Forward passes run so far (for tests and benchmarks).</summary>
    internal long Batches => Interlocked.Read(ref _batches);

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
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (inputs.Count == 0)
            return Array.Empty<float[]>();
        for (int i = 0; i < inputs.Count; i++)
            Model.CheckInput(inputs[i] ?? throw new ArgumentException($"Input {i} is null.", nameof(inputs)), $"{nameof(inputs)}[{i}]");

        var request = new Request(inputs);
        using var registration = cancellationToken.Register(static state => ((Request)state!).Result.TrySetCanceled(), request);
        try
        {
            await _queue.Writer.WriteAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(EmbeddingBatcher));
        }

        return await request.Result.Task.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Request>();
        Request? carried = null;
        while (carried is not null || await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            int inputs = 0;
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var next = carried;
                carried = null;
                if (next is null && !reader.TryRead(out next))
                {
                    var left = _options.MaxWait - clock.Elapsed;
                    if (batch.Count == 0 || left <= TimeSpan.Zero)
                        break;
                    // Wait briefly for company; a closed queue or the deadline ends the batch.
                    var more = reader.WaitToReadAsync().AsTask();
                    if (await Task.WhenAny(more, Task.Delay(left)).ConfigureAwait(false) != more || !await more.ConfigureAwait(false))
                        break;
                    continue;
                }

                if (next.Result.Task.IsCompleted)
                    continue;   // cancelled while it waited
                if (batch.Count > 0 && inputs + next.Inputs.Count > _options.MaxBatchSize)
                {
                    carried = next;   // starts the next batch
                    break;
                }

                batch.Add(next);
                inputs += next.Inputs.Count;
                if (inputs >= _options.MaxBatchSize)
                    break;
            }

            if (batch.Count > 0)
                Run(batch, inputs);
        }
    }

    private void Run(List<Request> batch, int inputs)
    {
        Interlocked.Increment(ref _batches);
        var all = new List<float[]>(inputs);
        foreach (var request in batch)
            all.AddRange(request.Inputs);
        try
        {
            var rows = Model.Embed(all);
            int offset = 0;
            foreach (var request in batch)
            {
                request.Result.TrySetResult(rows.AsSpan(offset, request.Inputs.Count).ToArray());
                offset += request.Inputs.Count;
            }
        }
        catch (Exception ex)
        {
            foreach (var request in batch)
                request.Result.TrySetException(ex);
        }
    }

    /// <summary>Stops taking requests, serves those already queued, and waits for the worker to finish.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc cref="Dispose"/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _queue.Writer.TryComplete();
        // The worker drains what is queued before it stops; nothing queued after the close.
        await _worker.ConfigureAwait(false);
    }

    private sealed class Request(IReadOnlyList<float[]> inputs)
    {
        public IReadOnlyList<float[]> Inputs { get; } = inputs;

        public TaskCompletionSource<float[][]> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
