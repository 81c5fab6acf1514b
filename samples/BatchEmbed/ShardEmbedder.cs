using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using MetricLearning.Mnist.Idx;
using MetricLearning.Models;
using static TorchSharp.torch;

namespace BatchEmbed;

/// <summary>What one run embeds and where it writes.</summary>
/// <param name="ModelFolder">A model saved with <c>TrainedModel.Save</c>.</param>
/// <param name="ImagesPath">An IDX images file (plain or gzip).</param>
/// <param name="LabelsPath">The matching IDX labels file, or null to write no labels.</param>
/// <param name="OutputFolder">Where the shard's folder is made.</param>
/// <param name="Shard">Which shard, from 0.</param>
/// <param name="Shards">How many shards the input is cut into.</param>
/// <param name="BatchSize">Images per forward pass; shards are cut at whole batches.</param>
/// <param name="Overwrite">Replace a shard folder that exists.</param>
public sealed record EmbedRequest(string ModelFolder, string ImagesPath, string? LabelsPath, string OutputFolder, int Shard, int Shards, int BatchSize, bool Overwrite);

/// <summary>What a run wrote.</summary>
/// <param name="Folder">The shard's folder.</param>
/// <param name="FirstKey">Key (position in the input) of the shard's first row.</param>
/// <param name="Count">Rows written.</param>
/// <param name="Dimensions">Embedding width.</param>
/// <param name="Seconds">Wall time of the embedding.</param>
public sealed record EmbedResult(string Folder, long FirstKey, int Count, int Dimensions, double Seconds);

/// <summary>
/// Embeds one shard of an IDX image set with a saved model, in bounded memory (one batch of images and its
/// embeddings at a time), and writes <c>embeddings.npy</c> (float32 [n, d]), <c>keys.npy</c> (int64 [n], each row's
/// position in the input), <c>labels.npy</c> (int32 [n]) and <c>manifest.json</c> into
/// <c>shard-IIIII-of-NNNNN</c>, atomically (a temporary folder, then a rename; a run killed midway leaves its
/// <c>.tmp-</c> folder, which can be deleted).
/// </summary>
/// <remarks>
/// Shard i of n holds batches [i·B/n, (i+1)·B/n) of the B batches of the input, so the shards of any n partition it
/// and every image goes through the same batch as in a one-shard run.
/// </remarks>
public static class ShardEmbedder
{
    /// <summary>Runs the request.</summary>
    /// <exception cref="ArgumentException">The request is inconsistent (shard numbers, batch size, sizes of the files against the model).</exception>
    /// <exception cref="IOException">The shard's folder exists and <see cref="EmbedRequest.Overwrite"/> is false.</exception>
    public static EmbedResult Run(EmbedRequest request, Action<string>? log = null)
    {
        if (request.Shards < 1 || request.Shard < 0 || request.Shard >= request.Shards)
            throw new ArgumentException($"Shard {request.Shard}/{request.Shards} does not exist: shards are numbered 0 to n-1, n at least 1.");
        if (request.BatchSize < 1)
            throw new ArgumentException($"The batch size is {request.BatchSize}; it must be at least 1.");

        using var model = TrainedModel.Load(request.ModelFolder);
        using var images = IdxRecordReader.Open(request.ImagesPath, expectedRank: 3);
        using var labels = request.LabelsPath is null ? null : IdxRecordReader.Open(request.LabelsPath, expectedRank: 1);
        long inputLength = model.InputShape?.Aggregate(1L, (product, size) => product * size)
            ?? throw new ArgumentException($"The model in '{request.ModelFolder}' does not record its input shape, so images cannot be checked against it.");
        if (images.RecordSize != inputLength)
            throw new ArgumentException($"'{request.ImagesPath}' holds images of {string.Join("x", images.RecordShape)} = {images.RecordSize} pixels; the model in '{request.ModelFolder}' takes {inputLength} values.");
        if (labels is not null && labels.Count != images.Count)
            throw new ArgumentException($"'{request.LabelsPath}' holds {labels.Count} labels for the {images.Count} images of '{request.ImagesPath}'.");

        long batches = (images.Count + (long)request.BatchSize - 1) / request.BatchSize;
        int first = (int)Math.Min(images.Count, request.Shard * batches / request.Shards * request.BatchSize);
        int end = (int)Math.Min(images.Count, (request.Shard + 1) * batches / request.Shards * request.BatchSize);
        int count = end - first;
        string name = string.Create(CultureInfo.InvariantCulture, $"shard-{request.Shard:D5}-of-{request.Shards:D5}");
        string folder = Path.GetFullPath(Path.Combine(request.OutputFolder, name));
        if (Directory.Exists(folder) && !request.Overwrite)
            throw new IOException($"'{folder}' exists; pass --overwrite to replace it.");

        images.Skip(first);
        labels?.Skip(first);
        string temporary = folder + ".tmp-" + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(temporary);
        var clock = Stopwatch.StartNew();
        int dimensions;
        try
        {
            dimensions = Write(model, images, labels, count, request.BatchSize, temporary, log);
            File.WriteAllText(Path.Combine(temporary, "manifest.json"), JsonSerializer.Serialize(new
            {
                format = "metriclearning-embeddings/1",
                model = Path.GetFullPath(request.ModelFolder),
                images = Path.GetFullPath(request.ImagesPath),
                labels = request.LabelsPath is null ? null : Path.GetFullPath(request.LabelsPath),
                shard = request.Shard,
                shards = request.Shards,
                batch_size = request.BatchSize,
                first_key = first,
                count,
                dimensions,
                distance = model.Distance.GetType().Name,
            }, new JsonSerializerOptions { WriteIndented = true }));
            // Replacing a shard: the old one moves aside first, so that a failure never leaves neither.
            string? old = Directory.Exists(folder) ? folder + ".old-" + Guid.NewGuid().ToString("N") : null;
            if (old is not null)
                Directory.Move(folder, old);
            Directory.Move(temporary, folder);
            if (old is not null)
                Directory.Delete(old, recursive: true);
        }
        finally
        {
            if (Directory.Exists(temporary))
                Directory.Delete(temporary, recursive: true);
        }

        return new EmbedResult(folder, first, count, dimensions, clock.Elapsed.TotalSeconds);
    }

    private static int Write(TrainedModel model, IdxRecordReader images, IdxRecordReader? labels, int count, int batchSize, string folder, Action<string>? log)
    {
        using var vectors = File.Create(Path.Combine(folder, "embeddings.npy"));
        using var keys = File.Create(Path.Combine(folder, "keys.npy"));
        using var labelFile = labels is null ? null : File.Create(Path.Combine(folder, "labels.npy"));
        int dimensions = EmbeddingWidth(model, images.RecordSize);
        NpyFile.WriteHeader(vectors, "<f4", count, dimensions);
        NpyFile.WriteHeader(keys, "<i8", count);
        if (labelFile is not null)
            NpyFile.WriteHeader(labelFile, "<i4", count);

        var pixels = new byte[batchSize * images.RecordSize];
        var labelBytes = new byte[batchSize];
        int done = 0, lastReported = 0;
        while (done < count)
        {
            int rows = images.Read(pixels.AsSpan(0, Math.Min(batchSize, count - done) * images.RecordSize));
            using (var scope = NewDisposeScope())
            {
                // In the shape the model was saved with, on its device.
                var shape = new long[] { rows }.Concat(model.InputShape!).ToArray();
                var raw = tensor(pixels.AsSpan(0, rows * images.RecordSize).ToArray(), shape).to_type(ScalarType.Float32).to(model.Device);
                var embedded = model.Embed(raw).contiguous().cpu();
                vectors.Write(MemoryMarshal.AsBytes(embedded.data<float>().ToArray().AsSpan()));
            }

            var batchKeys = Enumerable.Range(0, rows).Select(i => (long)(images.Position - rows + i)).ToArray();
            keys.Write(MemoryMarshal.AsBytes(batchKeys.AsSpan()));
            if (labels is not null && labelFile is not null)
            {
                labels.Read(labelBytes.AsSpan(0, rows));
                var batchLabels = labelBytes.Take(rows).Select(b => (int)b).ToArray();
                labelFile.Write(MemoryMarshal.AsBytes(batchLabels.AsSpan()));
            }

            done += rows;
            if (log is not null && (done - lastReported >= count / 10 || done == count))
            {
                log(string.Create(CultureInfo.InvariantCulture, $"  {done:N0} / {count:N0} embedded"));
                lastReported = done;
            }
        }

        vectors.Flush(flushToDisk: true);
        keys.Flush(flushToDisk: true);
        labelFile?.Flush(flushToDisk: true);
        return dimensions;
    }

    /// <summary>The model's embedding width, from one blank input.</summary>
    private static int EmbeddingWidth(TrainedModel model, int inputLength)
    {
        using var scope = NewDisposeScope();
        return (int)model.Embed(zeros(new long[] { 1 }.Concat(model.InputShape!).ToArray(), device: model.Device)).shape[1];
    }
}
