using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using MetricLearning.Indexing;
using MetricLearning.Mnist.Idx;
using MetricLearning.Models;
using MetricLearning.Onnx;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SearchService;

// Search by example over a saved model (run by TorchSharp, or with --runtime onnx by ONNX Runtime from an exported
// file: the same page and answers) and an index: POST /embed and POST /search take a picture (multipart field
// "image") or JSON ({"input": [pixels]} to embed, or {"vector": [embedding]} to search by an embedding), and the page
// at / lets a person draw or upload a digit and see its nearest indexed images.
var builder = WebApplication.CreateBuilder(args);
builder.Configuration.AddCommandLine(args, new Dictionary<string, string>
{
    ["--model"] = "SearchService:Model",
    ["--runtime"] = "SearchService:Runtime",
    ["--index"] = "SearchService:Index",
    ["--images"] = "SearchService:Images",
    ["--examples"] = "SearchService:Examples",
});
var options = builder.Configuration.GetSection("SearchService").Get<SearchServiceOptions>() ?? new SearchServiceOptions();
options.Validate();
builder.Services.AddSingleton(options);
builder.Services.Configure<FormOptions>(form => form.MultipartBodyLengthLimit = options.MaxRequestBytes);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = options.MaxRequestBytes);

// The model, batched across concurrent requests, as the app's IEmbeddingGenerator: one line, for either runtime.
if (options.UsesOnnx)
{
    builder.Services.AddOnnxEmbeddingGenerator(options.Model);
    builder.Services.AddSingleton<INeighbourIndex>(provider =>
    {
        var onnx = provider.GetRequiredService<OnnxEmbeddingModel>();
        return IndexFiles.Load(options.Index, onnx.Distance, onnx.EmbeddingSize);
    });
}
else
{
    builder.Services.AddTrainedModelEmbeddingGenerator(options.Model);
    builder.Services.AddSingleton<INeighbourIndex>(provider =>
    {
        var model = provider.GetRequiredService<TrainedModel>();
        return IndexFiles.Load(options.Index, model.Distance, model.Network.EmbeddingSize);
    });
}

builder.Services.AddSingleton(_ => IndexedImages.Load(options.Images));

var app = builder.Build();
// Load everything now, so that a bad file fails the start, not the first request.
var index = app.Services.GetRequiredService<INeighbourIndex>();
var images = app.Services.GetRequiredService<IndexedImages>();
var generator = app.Services.GetRequiredService<IEmbeddingGenerator<float[], Embedding<float>>>();
var inputShape = options.UsesOnnx ? app.Services.GetRequiredService<OnnxEmbeddingModel>().InputShape : app.Services.GetRequiredService<TrainedModel>().InputShape;
int embeddingWidth = generator.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelDimensions ?? throw new InvalidDataException($"The model in '{options.Model}' does not say its embedding width.");
int inputLength = (int)(inputShape?.Aggregate(1L, (product, size) => product * size) ?? throw new InvalidDataException($"The model in '{options.Model}' does not record its input shape."));
int side = (int)Math.Round(Math.Sqrt(inputLength));
if (side * side != inputLength || images.Width != side || images.Height != side)
    throw new InvalidDataException($"The model takes {inputLength} values and '{options.Images}' holds {images.Width}x{images.Height} images; this sample serves square images the model takes.");
if (images.Count < index.Count)
    throw new InvalidDataException($"'{options.Images}' holds {images.Count} images but the index {index.Count} vectors.");
var examples = string.IsNullOrEmpty(options.Examples) ? null : IndexedImages.Load(options.Examples);
if (examples is not null && (examples.Width != side || examples.Height != side))
    throw new InvalidDataException($"'{options.Examples}' holds {examples.Width}x{examples.Height} images; the model takes {side}x{side}.");

app.MapGet("/", () => Results.Content(Page.Html, "text/html; charset=utf-8"));

app.MapGet("/api/info", () => Results.Ok(new
{
    model = generator.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelId,
    runtime = options.Runtime,
    dimensions = generator.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelDimensions,
    indexed = index.Count,
    index = index.GetType().Name,
    similarity = index.ScoresAreSimilarities,
    imageSide = side,
    examples = examples?.Count ?? 0,
    maxNeighbours = options.MaxNeighbours,
}));

app.MapGet("/images/{key:long}.png", (long key) =>
    key < 0 || key >= images.Count ? Results.NotFound() : Results.File(DigitImages.ToPng(images.Pixels(key), side, side), "image/png"));

app.MapGet("/examples/{number:long}.png", (long number) =>
    examples is null || number < 0 || number >= examples.Count ? Results.NotFound() : Results.File(DigitImages.ToPng(examples.Pixels(number), side, side), "image/png"));

app.MapPost("/embed", async (HttpRequest request, CancellationToken cancel) =>
{
    var query = await Requests.ReadAsync(request, options, inputLength, side, cancel);
    if (query.Problem is not null)
        return query.Problem;
    if (query.Input is null)
        return Requests.Bad("/embed takes a picture or {\"input\": [pixels]}; a \"vector\" is already an embedding.");
    var embedding = (await generator.GenerateAsync(new[] { query.Input }, cancellationToken: cancel))[0];
    return Results.Ok(new { embedding = embedding.Vector.ToArray(), dimensions = embedding.Vector.Length, model = embedding.ModelId });
});

app.MapPost("/search", async (HttpRequest request, CancellationToken cancel) =>
{
    var query = await Requests.ReadAsync(request, options, inputLength, side, cancel);
    if (query.Problem is not null)
        return query.Problem;
    if (query.K < 1 || query.K > Math.Min(options.MaxNeighbours, index.Count))
        return Requests.Bad($"k is {query.K}; it must be between 1 and {Math.Min(options.MaxNeighbours, index.Count)}.");
    float[] vector = query.Vector ?? (await generator.GenerateAsync(new[] { query.Input! }, cancellationToken: cancel))[0].Vector.ToArray();
    int width = embeddingWidth;
    if (vector.Length != width || vector.Any(v => !float.IsFinite(v)))
        return Requests.Bad($"The vector must hold {width} finite values (the model's embedding width); it holds {vector.Length}.");
    var neighbours = index.Search(vector, query.K);
    return Results.Ok(new
    {
        similarity = index.ScoresAreSimilarities,
        neighbours = neighbours.Select(n => new { key = n.Key, label = n.Label, score = n.Score, image = $"/images/{n.Key}.png" }),
    });
});

app.Run();

