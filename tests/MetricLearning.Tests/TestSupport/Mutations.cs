using System;
using System.Collections.Generic;
using System.Buffers.Binary;

namespace MetricLearning.Tests.TestSupport;

/// <summary>
/// Seeded corruptions of a valid file for fuzzing readers: truncations, bit flips, overwritten bytes, header fields
/// replaced by lies (huge, negative, zero sizes), appended and removed bytes.
/// </summary>
internal static class Mutations
{
    /// <summary><paramref name="count"/> corrupted variants of <paramref name="valid"/>, each with what was done to it.</summary>
    /// <param name="headerBytes">How many leading bytes hold the header fields worth lying in.</param>
    internal static IEnumerable<(string What, byte[] Bytes)> Of(byte[] valid, int count, int seed, int headerBytes = 64)
    {
        var random = new Random(seed);
        int header = Math.Min(headerBytes, valid.Length);
        uint[] lies = { 0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, 0x00FFFFFF, 0x10000000 };
        for (int i = 0; i < count; i++)
        {
            var bytes = (byte[])valid.Clone();
            switch (i % 6)
            {
                case 0:
                    int length = random.Next(valid.Length);
                    yield return ($"truncated to {length} bytes", bytes[..length]);
                    break;
                case 1:
                    int flips = random.Next(1, 4);
                    for (int f = 0; f < flips; f++)
                        bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                    yield return ($"{flips} bits flipped", bytes);
                    break;
                case 2:
                    int at = random.Next(header);
                    bytes[at] = (byte)random.Next(256);
                    yield return ($"header byte {at} set to {bytes[at]}", bytes);
                    break;
                case 3:
                    int field = random.Next(Math.Max(1, header - 3));
                    uint lie = lies[random.Next(lies.Length)];
                    if (random.Next(2) == 0)
                        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(field, Math.Min(4, bytes.Length - field)) is { Length: 4 } span ? span : new byte[4], lie);
                    else if (bytes.Length - field >= 4)
                        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(field, 4), lie);
                    if (random.Next(2) == 0 && bytes.Length - field >= 8)
                        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(field, 8), random.Next(2) == 0 ? long.MaxValue : -random.Next(1, 1000));
                    yield return ($"header field at {field} replaced by a lie", bytes);
                    break;
                case 4:
                    var longer = new byte[bytes.Length + random.Next(1, 64)];
                    bytes.CopyTo(longer, 0);
                    random.NextBytes(longer.AsSpan(bytes.Length));
                    yield return ($"{longer.Length - bytes.Length} random bytes appended", longer);
                    break;
                default:
                    int from = random.Next(bytes.Length);
                    int cut = random.Next(1, Math.Max(2, Math.Min(64, bytes.Length - from)));
                    var shorter = new byte[bytes.Length - Math.Min(cut, bytes.Length - from)];
                    bytes.AsSpan(0, from).CopyTo(shorter);
                    bytes.AsSpan(from + Math.Min(cut, bytes.Length - from)).CopyTo(shorter.AsSpan(from));
                    yield return ($"{bytes.Length - shorter.Length} bytes removed at {from}", shorter);
                    break;
            }
        }
    }
}
