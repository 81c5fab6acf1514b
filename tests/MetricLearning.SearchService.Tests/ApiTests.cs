using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Tasks;
using FluentAssertions;
using MetricLearning.Models;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Xunit;

namespace MetricLearning.SearchService.Tests;

/// <summary>The service's API with the model on TorchSharp (the default runtime); <see cref="OnnxApiTests"/> runs every test again on ONNX Runtime.</summary>
public class ApiTests : IClassFixture<ServiceFiles>
{
    private readonly ServiceFiles _files;

    public ApiTests(ServiceFiles files) => _files = files;

    /// <summary>The service's --runtime.</summary>
    protected virtual string Runtime => "torch";

    private WebApplicationFactory<global::SearchService.SearchServiceOptions> Service(string index) => new WebApplicationFactory<global::SearchService.SearchServiceOptions>().WithWebHostBuilder(host =>
    {
        host.UseSetting("SearchService:Model", _files.Model(Runtime));
        host.UseSetting("SearchService:Runtime", Runtime);
        host.UseSetting("SearchService:Index", index);
        host.UseSetting("SearchService:Images", _files.ImagesPath);
        host.UseSetting("SearchService:MaxRequestBytes", "65536");
    });

    private static async Task<JsonElement> Json(HttpResponseMessage response) => JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    private static MultipartFormDataContent Upload(byte[] bytes, string name = "digit.png", int? k = null)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(file, "image", name);
        if (k is int count)
            form.Add(new StringContent(count.ToString(System.Globalization.CultureInfo.InvariantCulture)), "k");
        return form;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_indexed_image_sent_as_pixels_or_as_a_picture_finds_itself_first(bool approximate)
    {
        using var service = Service(approximate ? _files.ApproximateIndexPath : _files.ExactIndexPath);
        using var client = service.CreateClient();

        var byPixels = await client.PostAsJsonAsync("/search", new { input = _files.Input(37), k = 3 });
        var byPicture = await client.PostAsync("/search", Upload(File.ReadAllBytes(_files.Png(37)), k: 3));

        foreach (var response in new[] { byPixels, byPicture })
        {
            response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            var neighbours = (await Json(response)).GetProperty("neighbours").EnumerateArray().ToArray();
            neighbours.Should().HaveCount(3);
            neighbours[0].GetProperty("key").GetInt64().Should().Be(37);
            neighbours[0].GetProperty("label").GetInt32().Should().Be(_files.Labels[37]);
            neighbours[0].GetProperty("score").GetSingle().Should().BeApproximately(1f, 1e-4f, "the same image embeds the same");
            neighbours[0].GetProperty("image").GetString().Should().Be("/images/37.png");
        }
    }

    [Fact]
    public async Task Embed_returns_what_the_saved_model_embeds_and_search_by_vector_ranks_like_brute_force()
    {
        using var service = Service(_files.ExactIndexPath);
        using var client = service.CreateClient();
        using var model = TrainedModel.Load(_files.ModelFolder);
        var expected = model.Embed(_files.Input(5));

        var embedded = await Json(await client.PostAsJsonAsync("/embed", new { input = _files.Input(5) }));
        var vector = embedded.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var searched = await Json(await client.PostAsJsonAsync("/search", new { vector = _files.Embeddings[9], k = 4 }));

        vector.Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-5f);
        embedded.GetProperty("dimensions").GetInt32().Should().Be(16);
        double Cosine(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum() / Math.Sqrt(a.Sum(x => (double)x * x) * b.Sum(y => (double)y * y));
        var bruteForce = Enumerable.Range(0, ServiceFiles.Count).OrderByDescending(i => Cosine(_files.Embeddings[i], _files.Embeddings[9])).Take(4).Select(i => (long)i);
        searched.GetProperty("neighbours").EnumerateArray().Select(n => n.GetProperty("key").GetInt64()).Should().Equal(bruteForce);
    }

    [Fact]
    public async Task A_larger_picture_is_scaled_into_20_pixels_and_moved_to_its_centre_of_mass()
    {
        using var service = Service(_files.ExactIndexPath);
        using var client = service.CreateClient();
        using var model = TrainedModel.Load(_files.ModelFolder);
        const int Side = ServiceFiles.Side, Key = 8;
        var pixels = _files.Pixels.AsSpan(Key * Side * Side, Side * Side).ToArray();
        // Image 8 at twice the size (each pixel a 2x2 block): its 40-pixel bounding box comes back to 20 pixels.
        var doubled = new byte[4 * Side * Side];
        for (int y = 0; y < 2 * Side; y++)
        {
            for (int x = 0; x < 2 * Side; x++)
                doubled[y * 2 * Side + x] = pixels[y / 2 * Side + x / 2];
        }

        // Expected here: the image moved by whole pixels so that its centre of mass is nearest to (13.5, 13.5).
        double mass = pixels.Sum(p => (double)p);
        double cx = Enumerable.Range(0, Side * Side).Sum(i => (double)pixels[i] * (i % Side)) / mass;
        double cy = Enumerable.Range(0, Side * Side).Sum(i => (double)pixels[i] * (i / Side)) / mass;
        int dx = (int)Math.Round(13.5 - cx), dy = (int)Math.Round(13.5 - cy);
        var expected = new float[Side * Side];
        for (int i = 0; i < Side * Side; i++)
        {
            if (pixels[i] > 0)
                expected[(i / Side + dy) * Side + i % Side + dx] = pixels[i];
        }

        var response = await client.PostAsync("/embed", Upload(global::SearchService.DigitImages.ToPng(doubled, 2 * Side, 2 * Side)));
        var embedding = (await Json(response)).GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();

        Math.Abs(dx).Should().BeLessThanOrEqualTo(4, "the shift stays within the image here");
        embedding.Should().Equal(model.Embed(expected), (a, b) => Math.Abs(a - b) < 1e-3f);
    }

    [Fact]
    public async Task A_dark_digit_on_a_transparent_background_is_read_as_ink_and_a_broken_form_gets_a_400()
    {
        using var service = Service(_files.ExactIndexPath);
        using var client = service.CreateClient();
        using var bitmap = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(56, 56, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Unpremul));
        bitmap.Erase(SkiaSharp.SKColors.Transparent);
        for (int y = 10; y < 46; y++)
        {
            for (int x = 25; x < 31; x++)
                bitmap.SetPixel(x, y, SkiaSharp.SKColors.Black);
        }

        using var image = SkiaSharp.SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        var drawn = await client.PostAsync("/search", Upload(png.ToArray()));
        var broken = new ByteArrayContent("--x\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\nabc"u8.ToArray());
        broken.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=x");
        var truncated = await client.PostAsync("/search", broken);

        drawn.StatusCode.Should().Be(HttpStatusCode.OK, "black strokes on a transparent background are a digit, not a blank picture");
        truncated.StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task The_page_and_indexed_images_are_served()
    {
        using var service = Service(_files.ExactIndexPath);
        using var client = service.CreateClient();

        string page = await client.GetStringAsync("/");
        var png = await client.GetAsync("/images/3.png");
        var missing = await client.GetAsync($"/images/{ServiceFiles.Count}.png");
        var info = await Json(await client.GetAsync("/api/info"));

        page.Should().Contain("<canvas id=\"pad\"");
        png.Content.Headers.ContentType!.MediaType.Should().Be("image/png");
        (await png.Content.ReadAsByteArrayAsync()).Take(4).Should().Equal(0x89, (byte)'P', (byte)'N', (byte)'G');
        missing.StatusCode.Should().Be(HttpStatusCode.NotFound);
        info.GetProperty("indexed").GetInt32().Should().Be(ServiceFiles.Count);
        info.GetProperty("runtime").GetString().Should().Be(Runtime);
        info.GetProperty("dimensions").GetInt32().Should().Be(16);
        info.GetProperty("examples").GetInt32().Should().Be(0);
        (await client.GetAsync("/examples/0.png")).StatusCode.Should().Be(HttpStatusCode.NotFound, "no examples were configured");
    }

    [Fact]
    public async Task Example_queries_are_served_when_configured()
    {
        using var service = Service(_files.ExactIndexPath).WithWebHostBuilder(host => host.UseSetting("SearchService:Examples", _files.ImagesPath));
        using var client = service.CreateClient();

        var info = await Json(await client.GetAsync("/api/info"));
        var example = await client.GetAsync("/examples/5.png");

        info.GetProperty("examples").GetInt32().Should().Be(ServiceFiles.Count);
        var png = await example.Content.ReadAsByteArrayAsync();
        png.Should().Equal(global::SearchService.DigitImages.ToPng(_files.Pixels.AsSpan(5 * 28 * 28, 28 * 28), 28, 28));
    }

    public static TheoryData<string, Func<ServiceFiles, HttpContent>, string> BadRequests => new()
    {
        { "/search", _ => Upload("this is not a picture"u8.ToArray(), "notes.txt"), "not a picture" },
        { "/search", f => Upload(global::SearchService.DigitImages.ToPng(new byte[28 * 28], 28, 28)), "blank" },
        { "/search", _ => Upload(Array.Empty<byte>()), "empty" },
        { "/search", _ => Upload(new byte[70_000]), "at most 65536" },
        { "/search", f => Upload(File.ReadAllBytes(f.Png(1)), k: 0), "k is 0" },
        { "/search", f => Upload(File.ReadAllBytes(f.Png(1)), k: 121), "k is 121" },
        { "/search", f => JsonContent.Create(new { input = new float[10] }), "holds 10 values" },
        { "/search", f => JsonContent.Create(new { vector = new float[3] }), "16 finite values" },
        { "/search", f => JsonContent.Create(new { input = f.Input(0), vector = new float[16] }), "exactly one" },
        { "/search", f => new StringContent("{ not json", System.Text.Encoding.UTF8, "application/json"), "not valid JSON" },
        { "/search", f => new StringContent("k=3", System.Text.Encoding.UTF8, "text/plain"), "multipart/form-data" },
        { "/embed", f => JsonContent.Create(new { vector = new float[16] }), "already an embedding" },
        { "/embed", f => JsonContent.Create(new { input = new object[] { 1, "x" } }), "\"input\"[1] is not a finite number" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_requests_get_a_400_with_the_reason(string path, Func<ServiceFiles, HttpContent> body, string reason)
    {
        using var service = Service(_files.ExactIndexPath);
        using var client = service.CreateClient();

        var response = await client.PostAsync(path, body(_files));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var problem = await Json(response);
        problem.GetProperty("detail").GetString().Should().Contain(reason);
    }

    [Fact]
    public void A_missing_file_stops_the_service_at_start_naming_the_setting()
    {
        using var service = new WebApplicationFactory<global::SearchService.SearchServiceOptions>().WithWebHostBuilder(host =>
        {
            host.UseSetting("SearchService:Model", _files.ModelFolder);
            host.UseSetting("SearchService:Index", Path.Combine(_files.Folder, "no-such.ann"));
            host.UseSetting("SearchService:Images", _files.ImagesPath);
        });

        var act = () => service.CreateClient();

        act.Should().Throw<FileNotFoundException>().WithMessage("*SearchService:Index (--index)*no-such.ann*");
    }
}
