using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using MetricLearning.Training;

namespace SiameseMnist;

/// <summary>Writes a run's settings and per-epoch figures as JSON, atomically, for scripts that compare runs.</summary>
internal static class MetricsFile
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    internal static void Write(string path, ExperimentSettings settings, string device, int threads, IReadOnlyList<EpochReport> epochs, IReadOnlyList<double> rssMegabytes, Calibration calibration, double secondsPerEpoch)
    {
        var last = epochs[^1];
        var document = new
        {
            Experiment = "siamese-mnist",
            settings.Epochs,
            settings.BatchSize,
            settings.Seed,
            Device = device,
            Threads = threads,
            settings.TrainImages,
            PerEpoch = epochs,
            RssMbAfterEachEpoch = rssMegabytes,
            Calibration = calibration,
            Result = new
            {
                TrainAccuracy = last.TrainAccuracy,
                TestAccuracy = last.ValidationAccuracy,
                SecondsPerEpoch = secondsPerEpoch,
            },
        };

        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        string temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(document, Json));
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
    }
}
