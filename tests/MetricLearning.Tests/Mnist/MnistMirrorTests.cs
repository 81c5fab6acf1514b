using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using FluentAssertions;
using MetricLearning.Mnist;
using MetricLearning.Mnist.Acquisition;
using MetricLearning.Tests.TestSupport;
using Xunit;

namespace MetricLearning.Tests.Mnist;

/// <summary>The download path, against mirrors served on the loopback interface by this test.</summary>
public sealed class MnistMirrorTests
{
    /// <summary>Serves <c>/good/NAME.gz</c> (the real files, gzipped), <c>/corrupt/NAME.gz</c> (wrong content) and 404 elsewhere.</summary>
    private sealed class LoopbackMirror : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _serving;

        internal LoopbackMirror(string realFolder)
        {
            int port = FreePort();
            Address = new Uri($"http://127.0.0.1:{port}/");
            _listener.Prefixes.Add(Address.ToString());
            _listener.Start();
            _serving = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await _listener.GetContextAsync();
                    }
                    catch (Exception) when (_stop.IsCancellationRequested)
                    {
                        return;
                    }

                    Requests++;
                    string path = context.Request.Url!.AbsolutePath;
                    string name = Path.GetFileName(path).Replace(".gz", "", StringComparison.Ordinal);
                    byte[]? body = null;
                    if (MnistFile.All.Any(f => f.Name == name))
                    {
                        if (path.StartsWith("/good/", StringComparison.Ordinal))
                            body = IdxFiles.Gzip(File.ReadAllBytes(Path.Combine(realFolder, name)));
                        else if (path.StartsWith("/corrupt/", StringComparison.Ordinal))
                            body = IdxFiles.Gzip(IdxFiles.Labels(1, 2, 3));
                    }

                    context.Response.StatusCode = body is null ? 404 : 200;
                    if (body is not null)
                        await context.Response.OutputStream.WriteAsync(body);
                    context.Response.Close();
                }
            });
        }

        internal Uri Address { get; }

        internal int Requests { get; private set; }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _listener.Close();
            try
            {
                _serving.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
            }
        }

        private static int FreePort()
        {
            using var socket = new TcpListener(IPAddress.Loopback, 0);
            socket.Start();
            return ((IPEndPoint)socket.LocalEndpoint).Port;
        }
    }

    [Fact]
    public async Task Files_are_downloaded_verified_and_cached_skipping_bad_mirrors()
    {
        string real = await MnistData.FolderAsync();
        using var mirror = new LoopbackMirror(real);
        using var cache = new TempFolder();
        var log = new System.Collections.Generic.List<string>();
        var options = new MnistAcquisitionOptions
        {
            CacheFolder = cache.Path,
            UseNpm = false,
            // A mirror that has nothing, one that serves wrong files, then a good one.
            Mirrors = new[] { new Uri(mirror.Address, "missing/"), new Uri(mirror.Address, "corrupt/"), new Uri(mirror.Address, "good/") },
        };

        string folder = await new MnistAcquirer(options, log.Add).EnsureAsync();

        folder.Should().Be(cache.Path);
        foreach (var file in MnistFile.All)
            MnistAcquirer.Md5(File.ReadAllBytes(cache.File(file.Name))).Should().Be(file.Md5, file.Name);
        Directory.GetFileSystemEntries(cache.Path).Should().HaveCount(4, "no temporary or rejected file is left behind");
        log.Should().HaveCount(4).And.OnlyContain(line => line.StartsWith("downloaded ", StringComparison.Ordinal));
        mirror.Requests.Should().Be(12, "each file was asked of all three mirrors");
        MnistDataset.Load(folder).Test.Count.Should().Be(10_000);
    }
}
