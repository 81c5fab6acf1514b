using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;

namespace MetricLearning.Bench.Serving;

/// <summary>
/// What both serving apps measure, the same way: the time from process start to the first embedding, and embeddings
/// per second with C concurrent callers each asking for one embedding at a time (after a second of warm-up).
/// </summary>
internal static class Callers
{
    /// <summary>Milliseconds from this process's start (as the OS recorded it) to now.</summary>
    internal static double SinceProcessStart() => (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds;

    /// <summary>Seeded raw inputs of <paramref name="length"/> values in 0..255.</summary>
    internal static float[][] Inputs(int count, int length)
    {
        var random = new Random(1);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, length).Select(_ => (float)random.Next(256)).ToArray()).ToArray();
    }

    /// <summary>Embeddings per second of <paramref name="callers"/> loops calling <paramref name="embed"/> for <paramref name="seconds"/>.</summary>
    internal static double Throughput(int callers, double seconds, float[][] inputs, Func<float[], Task<float[]>> embed)
    {
        long warmUpEnds = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
        long ends = warmUpEnds + (long)(seconds * Stopwatch.Frequency);
        long counted = 0;
        var loops = Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
        {
            long mine = 0;
            for (int i = c; ; i += callers)
            {
                long start = Stopwatch.GetTimestamp();
                if (start >= ends)
                    break;
                await embed(inputs[i % inputs.Length]).ConfigureAwait(false);
                if (start >= warmUpEnds && Stopwatch.GetTimestamp() <= ends)
                    mine++;
            }

            System.Threading.Interlocked.Add(ref counted, mine);
        })).ToArray();
        Task.WaitAll(loops);
        return counted / seconds;
    }

    /// <summary>Runs the app's command: <c>cold</c> prints the time to the first embedding; <c>throughput C1,C2 SECONDS</c> the rate at each caller count.</summary>
    internal static int Run(string[] args, Func<string, (int InputLength, Func<float[], float[]> Embed, Func<float[], Task<float[]>> EmbedAsync, IDisposable Owner)> load)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: APP MODEL cold | APP MODEL throughput CALLERS[,CALLERS...] SECONDS");
            return 2;
        }

        var culture = CultureInfo.InvariantCulture;
        var (length, embed, embedAsync, owner) = load(args[0]);
        using var _ = owner;
        var inputs = Inputs(256, length);
        if (args[1] == "cold")
        {
            embed(inputs[0]);
            Console.WriteLine(string.Create(culture, $"first_embedding_ms={SinceProcessStart():F0}"));
            return 0;
        }

        foreach (int callers in args[2].Split(',').Select(int.Parse))
        {
            double rate = Throughput(callers, double.Parse(args[3], culture), inputs, embedAsync);
            Console.WriteLine(string.Create(culture, $"callers={callers} embeddings_per_second={rate:F0}"));
        }

        return 0;
    }
}
