using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace MetricLearning.Models;

/// <summary>
/// Gathers concurrent callers' requests (each a list of inputs) into batches for one function that embeds many
/// inputs at once: requests wait in a bounded queue, one worker takes as many as fit in <c>maxBatchSize</c> inputs
/// (waiting at most <c>maxWait</c> for the batch to fill), runs the function once, and hands each caller its rows.
/// Compiled into every package that serves embeddings (the torch model's batcher, the ONNX model), which share no
/// assembly below them.
/// </summary>
/// <remarks>
/// A request's inputs stay together in one batch. A request cancelled before its batch runs is dropped; if the
/// function fails, only the requests of that batch fail, with its exception. Safe to use from many threads. Disposal
/// stops new requests (<see cref="ObjectDisposedException"/>), serves those queued, and returns when the worker ends.
/// </remarks>
internal sealed class RequestBatcher : IAsyncDisposable
{
    private readonly Func<IReadOnlyList<float[]>, float[][]> _embed;
    private readonly int _maxBatchSize;
    private readonly TimeSpan _maxWait;
    private readonly string _owner;
    private readonly Channel<Request> _queue;
    private readonly Task _worker;
    private readonly object _disposing = new();
    private Task? _disposal;
    private long _batches;

    /// <param name="embed">Embeds a batch of inputs, one row per input, in order.</param>
    /// <param name="maxBatchSize">The most inputs one call of <paramref name="embed"/> takes (a single larger request runs alone).</param>
    /// <param name="maxWait">How long the first request of a batch may wait for others.</param>
    /// <param name="queueCapacity">The most requests waiting at once; callers beyond it wait for room.</param>
    /// <param name="owner">The serving type's name, for <see cref="ObjectDisposedException"/>.</param>
    internal RequestBatcher(Func<IReadOnlyList<float[]>, float[][]> embed, int maxBatchSize, TimeSpan maxWait, int queueCapacity, string owner)
    {
        _embed = embed;
        _maxBatchSize = maxBatchSize;
        _maxWait = maxWait;
        _owner = owner;
        _queue = Channel.CreateBounded<Request>(new BoundedChannelOptions(queueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        _worker = Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Calls of the embedding function so far (for tests and benchmarks).</summary>
    internal long Batches => Interlocked.Read(ref _batches);

    internal bool IsDisposed => Volatile.Read(ref _disposal) is not null;

    /// <summary>Queues checked inputs as one request and waits for their rows.</summary>
    internal async Task<float[][]> EmbedAsync(IReadOnlyList<float[]> inputs, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, _owner);
        if (inputs.Count == 0)
            return Array.Empty<float[]>();
        var request = new Request(inputs);
        using var registration = cancellationToken.Register(static state => ((Request)state!).Result.TrySetCanceled(), request);
        try
        {
            await _queue.Writer.WriteAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(_owner);
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
                    var left = _maxWait - clock.Elapsed;
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
                if (batch.Count > 0 && inputs + next.Inputs.Count > _maxBatchSize)
                {
                    carried = next;   // starts the next batch
                    break;
                }

                batch.Add(next);
                inputs += next.Inputs.Count;
                if (inputs >= _maxBatchSize)
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
            var rows = _embed(all);
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

    /// <summary>Stops taking requests and completes when the worker has served those queued; every caller waits for the same drain.</summary>
    public ValueTask DisposeAsync()
    {
        lock (_disposing)
        {
            if (_disposal is null)
            {
                _queue.Writer.TryComplete();
                // The worker drains what is queued before it stops; nothing is queued after the close.
                Volatile.Write(ref _disposal, _worker);
            }

            return new ValueTask(_disposal);
        }
    }

    private sealed class Request(IReadOnlyList<float[]> inputs)
    {
        public IReadOnlyList<float[]> Inputs { get; } = inputs;

        public TaskCompletionSource<float[][]> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
