using System;
using System.IO;
using System.Linq;
using static TorchSharp.torch;

namespace MetricLearning.Training;

/// <summary>One tensor's dtype, shape and raw bytes, for checkpoints; restored only into a tensor of the same dtype and shape.</summary>
internal static class TensorBlob
{
    /// <summary>The tensor's dtype, shape and values (copied to the host).</summary>
    internal static byte[] Encode(Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var host = tensor.detach().cpu().contiguous();
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write((int)host.dtype);
            writer.Write(host.shape.Length);
            foreach (long size in host.shape)
                writer.Write(size);
            writer.Write(host.bytes);
        }

        return stream.ToArray();
    }

    /// <summary>Checks that <paramref name="blob"/> fits <paramref name="target"/> (dtype, shape, length) without changing anything.</summary>
    /// <exception cref="InvalidDataException">The blob's dtype, shape or length differs from the target's.</exception>
    internal static void Check(byte[] blob, Tensor target, string name) => ValuesOffset(blob, target, name);

    /// <summary>Copies the values in <paramref name="blob"/> into <paramref name="target"/> (without recording a gradient).</summary>
    /// <exception cref="InvalidDataException">The blob's dtype, shape or length differs from the target's.</exception>
    internal static void Restore(byte[] blob, Tensor target, string name)
    {
        int offset = ValuesOffset(blob, target, name);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var host = empty(target.shape, dtype: target.dtype);
        host.bytes = blob.AsSpan(offset);
        target.copy_(host);
    }

    /// <summary>Where the values start in a blob that fits the target.</summary>
    private static int ValuesOffset(byte[] blob, Tensor target, string name)
    {
        using var reader = new BinaryReader(new MemoryStream(blob, writable: false));
        try
        {
            var dtype = (ScalarType)reader.ReadInt32();
            int rank = reader.ReadInt32();
            if (rank < 0 || rank > 64)
                throw new InvalidDataException($"'{name}' has rank {rank}.");
            var shape = new long[rank];
            for (int i = 0; i < rank; i++)
                shape[i] = reader.ReadInt64();
            if (dtype != target.dtype || !shape.SequenceEqual(target.shape))
                throw new InvalidDataException(
                    $"'{name}' is {dtype} [{string.Join(", ", shape)}] in the checkpoint but {target.dtype} [{string.Join(", ", target.shape)}] here.");
            long expected = target.numel() * target.ElementSize;
            if (blob.Length - reader.BaseStream.Position != expected)
                throw new InvalidDataException($"'{name}' holds {blob.Length - reader.BaseStream.Position} bytes of values; its shape needs {expected}.");
            return (int)reader.BaseStream.Position;
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException($"'{name}' ends before its header does.", ex);
        }
    }
}
