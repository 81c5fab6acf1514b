using System;
using System.Collections.Generic;
using MetricLearning.Distances;
using TorchSharp;
using static TorchSharp.torch;

namespace MetricLearning.Indexing;

/// <summary>
/// Exact k-nearest-neighbour search in tiles: a chunk of queries against one block of references at a time, the k
/// nearest taken inside each tile while it is still in the cache, and merged across the blocks. For a large k (more
/// than 256) a chunk of queries against all references at once, as a top-k over whole rows.
/// </summary>
/// <remarks>
/// A query chunk against all references at once (what <see cref="DistanceMatrixBlocks.ForEachBlock"/> hands out)
/// writes its whole distance matrix to memory and reads it back for the top-k: 400 MB of traffic for 500 queries
/// against 100,000 references, more than the products cost. Tiles of about 2 MB stay in the cache, and every tile of a
/// search is written into one buffer through <see cref="IDistance.TryComputeMatrix"/>; a distance without it gives
/// each tile from <see cref="IDistance.ComputeMatrix"/>. So every distance takes this path through its seam. A
/// distance that prepares its inputs (cosine normalises both) prepares a query chunk once per reference block and a
/// reference block once per query chunk, which beside the products of a chunk of at least a few hundred queries is a
/// few percent.
/// Above the C library's mapping threshold every fresh tile is memory the kernel maps and zeroes anew. Searching 500
/// queries against 100,000 × 128-d beside FAISS's flat index (<c>bench/compare-faiss.sh</c>, 2026-12-07, 2 AMD EPYC
/// cores), 8 MB tiles each freshly made took 0.52-0.59 of FAISS's time (3 rounds), and 2 MB tiles in one buffer a
/// median of 0.40 (0.31-0.78 over 13 rounds of the next hour, whose speed varied by 2x).
/// </remarks>
internal static class NearestNeighbours
{
    /// <summary>The largest tile, in bytes: a share of a last-level cache, so that the top-k reads what the product just wrote.</summary>
    internal const long TileBytes = 2L * 1024 * 1024;

    /// <summary>The most query rows in one chunk.</summary>
    private const long LargestQueryChunk = 1024;

    /// <summary>The largest k searched in tiles; beyond it, whole rows (a heap of thousands per row costs more than it saves).</summary>
    private const int LargestTiledK = 256;

    /// <summary>
    /// For each chunk of queries: the k nearest references (largest values for a similarity), handed with the
    /// chunk's start to <paramref name="consume"/> as values <c>[length, k]</c> and reference positions
    /// <c>[length, k]</c>, nearest first. <paramref name="prepare"/> may adjust each tile first (for example to rule
    /// out self-matches): it receives the chunk's first query row, its length, the tile's first reference row and
    /// the tile. Each chunk runs in its own dispose scope, without gradient.
    /// </summary>
    internal static void Search(
        IDistance distance,
        Tensor queries,
        Tensor references,
        int k,
        long chunkBytes,
        Action<long, long, Tensor, Tensor> consume,
        Action<long, long, long, Tensor>? prepare = null)
    {
        TensorChecks.EmbeddingBatches(queries, nameof(queries), references, nameof(references), rowWise: false);
        long queryCount = queries.shape[0], referenceCount = references.shape[0];
        long queryRows, referenceRows;
        bool tiled = k <= LargestTiledK;
        if (tiled)
        {
            long budget = Math.Max(4, Math.Min(chunkBytes, TileBytes));
            // As many queries per chunk as fit beside a few hundred references: a distance that prepares its inputs
            // (cosine normalises them) prepares every reference block once per chunk.
            queryRows = Math.Clamp(budget / (4L * Math.Min(referenceCount, 256)), 1, Math.Min(LargestQueryChunk, Math.Max(1, queryCount)));
            referenceRows = Math.Clamp(budget / (4L * queryRows), Math.Min(k, referenceCount), Math.Max(1, referenceCount));
        }
        else
        {
            // A large k (R-precision over big classes asks for thousands) keeps most of every tile: whole rows and
            // one top-k each, which selects in linear time, beat tiles and heaps.
            queryRows = Math.Clamp(Math.Max(1, chunkBytes) / (4L * Math.Max(1, referenceCount)), 1, Math.Max(1, queryCount));
            referenceRows = Math.Max(1, referenceCount);
        }

        bool largest = distance.IsSimilarity;
        using var noGrad = no_grad();
        // One buffer for every tile, handed to IDistance.TryComputeMatrix: a fresh matrix per tile costs new memory
        // each time, which the C library maps afresh and the kernel zeroes. Made at the first tile, and dropped for
        // good when the distance says it cannot write into it.
        Tensor? buffer = null;
        bool buffered = true;
        try
        {
            for (long start = 0; start < queryCount; start += queryRows)
            {
                using var scope = NewDisposeScope();
                long length = Math.Min(queryRows, queryCount - start);
                var chunk = queries.narrow(0, start, length);
                var values = new List<Tensor>();
                var positions = new List<Tensor>();
                TopK? kept = null;
                for (long first = 0; first < referenceCount; first += referenceRows)
                {
                    long count = Math.Min(referenceRows, referenceCount - first);
                    var block = references.narrow(0, first, count);
                    Tensor? tile = null;
                    if (buffered)
                    {
                        buffer ??= empty(queryRows * referenceRows, dtype: queries.dtype, device: queries.device).DetachFromDisposeScope();
                        var view = buffer.narrow(0, 0, length * count).view(length, count);
                        if (distance.TryComputeMatrix(chunk, block, view))
                        {
                            tile = view;
                        }
                        else
                        {
                            buffered = false;
                            buffer.Dispose();
                            buffer = null;
                        }
                    }

                    tile ??= distance.ComputeMatrix(chunk, block);
                    prepare?.Invoke(start, length, first, tile);
                    if (tiled && tile.device_type == DeviceType.CPU && tile.dtype == ScalarType.Float32)
                    {
                        // On the CPU the tile is read in place: a vector compare against each row's k-th best so far
                        // skips almost every value, which is several times cheaper than a top-k per tile.
                        kept ??= new TopK((int)length, k, largest);
                        using var dense = tile.contiguous();
                        kept.Add(FusedBuffers.Floats(dense), (int)count, first);
                        continue;
                    }

                    var (tileValues, tilePositions) = tile.topk((int)Math.Min(k, count), dim: 1, largest: largest);
                    values.Add(tileValues);
                    positions.Add(tilePositions.add_(first));
                }

                if (kept is not null)
                {
                    var (keptValues, keptPositions) = kept.Sorted();
                    consume(start, length, tensor(keptValues, new[] { length, (long)k }), tensor(keptPositions, new[] { length, (long)k }));
                    continue;
                }

                if (values.Count == 1)
                {
                    consume(start, length, values[0], positions[0]);
                    continue;
                }

                var (nearest, picked) = cat(values, 1).topk(k, dim: 1, largest: largest);
                consume(start, length, nearest, cat(positions, 1).gather(1, picked));
            }
        }
        finally
        {
            buffer?.Dispose();
        }
    }
}
