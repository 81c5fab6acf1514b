using System;
using System.Linq;

namespace MetricLearning.Bench;

/// <summary>Random vectors for the search benchmarks.</summary>
internal static class RandomVectors
{
    /// <summary>
    /// Draws vectors uniform in [-1, 1]^d (no structure at all), or for <c>latentN</c> a random linear map of N-d
    /// Gaussian points plus 1% noise, the low intrinsic dimension that learned embeddings have. For another name it
    /// prints the error the benchmarks give and returns null.
    /// </summary>
    internal static Func<float[]>? Draw(string distribution, int dimensions, Random random, out string described)
    {
        if (distribution == "uniform")
        {
            described = "uniform in [-1, 1]";
            return () => Enumerable.Range(0, dimensions).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        }

        if (distribution.StartsWith("latent", StringComparison.Ordinal) && int.TryParse(distribution.AsSpan(6), out int latent) && latent >= 1)
        {
            double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            var map = Enumerable.Range(0, dimensions).Select(_ => Enumerable.Range(0, latent).Select(_ => Gaussian()).ToArray()).ToArray();
            described = $"a random linear map of {latent}-d Gaussian points plus 1% noise";
            return () =>
            {
                var z = Enumerable.Range(0, latent).Select(_ => Gaussian()).ToArray();
                return map.Select(row => (float)(row.Zip(z, (a, b) => a * b).Sum() + 0.01 * Math.Sqrt(latent) * Gaussian())).ToArray();
            };
        }

        Console.Error.WriteLine($"error: --distribution '{distribution}' is neither uniform nor latentN (N a positive whole number).");
        described = "";
        return null;
    }
}
