using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using FluentAssertions;
using MetricLearning.Distances;
using MetricLearning.Models;
using MetricLearning.Networks;
using Xunit;
using static TorchSharp.torch;

namespace MetricLearning.Tests.Core.Models;

public sealed class EmbeddingBatcherTests
{
    private static TrainedModel Model(int seed)
    {
        manual_seed(seed);
        return new TrainedModel(new MlpEmbeddingNetwork(new MlpOptions { InputSize = 8, LayerSizes = new[] { 32, 16 } }), new EuclideanDistance(), 0.5, inputShape: new long[] { 8 });
    }

    private static float[][] Inputs(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, 8).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
    }

    [Fact]
    public async Task Many_concurrent_callers_are_served_in_fewer_passes_with_each_callers_own_embedding()
    {
        using var model = Model(61);
        var inputs = Inputs(256, 61);
        var expected = inputs.Select(input => model.Embed(input)).ToArray();
        // A run's first request waits up to 200 ms for others: long enough that requests share passes however slowly a
        // busy machine starts the callers (the ONNX batcher's test once saw every request alone with no wait).
        await using var batcher = new EmbeddingBatcher(model, new EmbeddingBatcherOptions { MaxBatchSize = 32, MaxWait = TimeSpan.FromMilliseconds(200) });
        using var start = new ManualResetEventSlim();

        var calls = inputs.Select(input => Task.Run(async () =>
        {
            start.Wait();
            return await batcher.EmbedAsync(input);
        })).ToArray();
        start.Set();
        var results = await Task.WhenAll(calls);

        for (int i = 0; i < inputs.Length; i++)
            results[i].Should().Equal(expected[i], (a, b) => Math.Abs(a - b) < 1e-5f, $"caller {i} gets its own input's embedding");
        batcher.Batches.Should().BeLessThan(inputs.Length / 2, "concurrent requests share forward passes");
    }

    [Fact]
    public async Task A_request_alone_gets_exactly_the_rows_of_one_embed_call()
    {
        using var model = Model(62);
        var inputs = Inputs(5, 62);
        await using var batcher = new EmbeddingBatcher(model);

        var rows = await batcher.EmbedAsync(inputs);

        rows.Should().HaveCount(5);
        var direct = model.Embed(inputs);
        // The same rows; separate passes may round the last bit differently (MKL's alignment-dependent kernels, see docs/how-to/serve.md).
        for (int i = 0; i < rows.Length; i++)
            rows[i].Should().Equal(direct[i], (a, b) => Math.Abs(a - b) <= 1e-6f);
    }

    [Fact]
    public async Task A_bad_input_fails_its_own_call_at_once_and_the_others_are_served()
    {
        using var model = Model(63);
        var inputs = Inputs(20, 63);
        await using var batcher = new EmbeddingBatcher(model, new EmbeddingBatcherOptions { MaxWait = TimeSpan.FromMilliseconds(20) });

        var good = inputs.Select(input => batcher.EmbedAsync(input)).ToArray();
        var tooShort = () => batcher.EmbedAsync(new float[3]);
        var notFinite = () => batcher.EmbedAsync(Enumerable.Repeat(float.NaN, 8).ToArray());

        await tooShort.Should().ThrowAsync<ArgumentException>().WithMessage("*3 values*shape [8]*");
        await notFinite.Should().ThrowAsync<ArgumentException>().WithMessage("*NaN*");
        (await Task.WhenAll(good)).Should().HaveCount(20).And.OnlyContain(row => row.Length == 16);
    }

    [Fact]
    public async Task A_cancelled_request_is_dropped_and_the_others_are_served()
    {
        using var model = Model(64);
        var inputs = Inputs(10, 64);
        // A long wait keeps the batch open, so the cancellation lands while the request is queued.
        await using var batcher = new EmbeddingBatcher(model, new EmbeddingBatcherOptions { MaxWait = TimeSpan.FromMilliseconds(300), MaxBatchSize = 64 });
        using var cancel = new CancellationTokenSource();

        var cancelled = batcher.EmbedAsync(inputs[0], cancel.Token);
        var others = inputs.Skip(1).Select(input => batcher.EmbedAsync(input)).ToArray();
        cancel.Cancel();

        await cancelled.Invoking(t => t).Should().ThrowAsync<OperationCanceledException>();
        (await Task.WhenAll(others)).Should().HaveCount(9);
    }

    [Fact]
    public async Task A_disposed_batcher_refuses_new_requests_and_bad_settings_are_named()
    {
        using var model = Model(65);
        var batcher = new EmbeddingBatcher(model);
        (await batcher.EmbedAsync(Inputs(1, 65)[0])).Should().HaveCount(16);
        await batcher.DisposeAsync();

        await batcher.Invoking(b => b.EmbedAsync(Inputs(1, 66)[0])).Should().ThrowAsync<ObjectDisposedException>();
        new EmbeddingBatcherOptions { MaxBatchSize = 0 }.Invoking(o => o.Validate())
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("EmbeddingBatcherOptions.MaxBatchSize *");
    }
}
