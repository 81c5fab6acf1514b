using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using static TorchSharp.torch;

namespace MetricLearning.Data;

/// <summary>
/// Reads a fixed sequence of batches from an <see cref="ILabelledSource"/> ahead of their use: <c>depth</c> batches
/// are being read or waiting besides the one in use, each read on a thread-pool thread, and they are handed out in
/// order. The memory held is at most <c>depth + 1</c> batches of raw inputs. A depth of 0 reads each batch on the
/// calling thread when it is taken.
/// </summary>
/// <remarks>Used from one thread (the training or embedding loop). Dispose it to wait for reads in flight and free their batches.</remarks>
internal sealed class BatchPrefetcher : IDisposable
{
    private readonly ILabelledSource _source;
    private readonly IReadOnlyList<int[]> _batches;
    private readonly int _depth;
    private readonly Queue<(int Batch, Task<Tensor> Read)> _inFlight = new();
    private int _nextToStart;

    internal BatchPrefetcher(ILabelledSource source, IReadOnlyList<int[]> batches, int depth, int firstBatch = 0)
    {
        _source = source;
        _batches = batches;
        _depth = Math.Max(0, depth);
        _nextToStart = firstBatch;
        TopUp();
    }

    /// <summary>The raw inputs of batch <paramref name="batch"/> (the next in order); the caller owns the tensor.</summary>
    /// <exception cref="InvalidOperationException">Batches were not taken in order.</exception>
    internal Tensor Take(int batch)
    {
        if (_depth == 0)
        {
            if (batch != _nextToStart)
                throw new InvalidOperationException($"Batch {batch} was asked for out of order.");
            _nextToStart++;
            return _source.Read(_batches[batch]);
        }

        if (_inFlight.Count == 0 || _inFlight.Peek().Batch != batch)
            throw new InvalidOperationException($"Batch {batch} was asked for out of order.");
        var (_, read) = _inFlight.Dequeue();
        TopUp();
        // A failed read surfaces here, as its own exception (not wrapped in an AggregateException).
        return read.GetAwaiter().GetResult();
    }

    private void TopUp()
    {
        while (_inFlight.Count < _depth && _nextToStart < _batches.Count)
        {
            var positions = _batches[_nextToStart];
            _inFlight.Enqueue((_nextToStart, Task.Run(() => _source.Read(positions))));
            _nextToStart++;
        }
    }

    public void Dispose()
    {
        while (_inFlight.Count > 0)
        {
            var (_, read) = _inFlight.Dequeue();
            try
            {
                read.GetAwaiter().GetResult().Dispose();
            }
            catch (Exception)
            {
                // A read that failed after its batch was no longer wanted has nothing to free.
            }
        }
    }
}
