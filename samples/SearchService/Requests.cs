using System;
using System.Globalization;
using System.IO;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;

namespace SearchService;

/// <summary>A parsed request: a picture or pixel values (<see cref="Input"/>), or an embedding (<see cref="Vector"/>), and k; or the 400 to answer.</summary>
public sealed record Query(float[]? Input, float[]? Vector, int K, IResult? Problem);

/// <summary>Reads /embed and /search requests; anything wrong with one becomes a 400 with the reason, never a 500.</summary>
public static class Requests
{
    /// <summary>Neighbours returned when the request does not say.</summary>
    public const int DefaultK = 5;

    /// <summary>A 400 with a reason, as RFC 9457 problem details.</summary>
    public static IResult Bad(string reason) => Results.Problem(detail: reason, statusCode: StatusCodes.Status400BadRequest, title: "Bad request");

    /// <summary>Reads a multipart picture (field "image", optional field or query "k") or a JSON body.</summary>
    public static async Task<Query> ReadAsync(HttpRequest request, SearchServiceOptions options, int inputLength, int side, CancellationToken cancel)
    {
        if (request.ContentLength > options.MaxRequestBytes)
            return Fail($"The request is {request.ContentLength} bytes; at most {options.MaxRequestBytes} are accepted.");
        try
        {
            int k = DefaultK;
            if (request.Query.TryGetValue("k", out var kText) && !TryParseK(kText.ToString(), out k))
                return Fail($"k is '{kText}'; it must be a whole number.");
            if (request.HasFormContentType)
            {
                var form = await request.ReadFormAsync(cancel);
                if (form.TryGetValue("k", out var formK) && !TryParseK(formK.ToString(), out k))
                    return Fail($"k is '{formK}'; it must be a whole number.");
                var file = form.Files.GetFile("image");
                if (file is null)
                    return Fail("The form has no file field named \"image\".");
                if (file.Length == 0)
                    return Fail("The uploaded file is empty.");
                using var buffer = new MemoryStream();
                await file.CopyToAsync(buffer, cancel);
                return new Query(DigitImages.ToInput(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), side), null, k, null);
            }

            if (request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true)
                return Fail("Send a picture as multipart/form-data (field \"image\") or JSON ({\"input\": [...]} or {\"vector\": [...]}).");
            JsonDocument json;
            try
            {
                json = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancel);
            }
            catch (JsonException ex)
            {
                return Fail($"The body is not valid JSON: {ex.Message}");
            }

            using var owned = json;
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return Fail("The JSON body must be an object.");
            if (root.TryGetProperty("k", out var kElement) && (kElement.ValueKind != JsonValueKind.Number || !kElement.TryGetInt32(out k)))
                return Fail("\"k\" must be a whole number.");
            bool hasInput = root.TryGetProperty("input", out var input), hasVector = root.TryGetProperty("vector", out var vector);
            if (hasInput == hasVector)
                return Fail("Give exactly one of \"input\" (pixel values, 0-255) and \"vector\" (an embedding).");
            float[] values = ReadNumbers(hasInput ? input : vector, hasInput ? "input" : "vector");
            if (hasInput && values.Length != inputLength)
                return Fail($"\"input\" holds {values.Length} values; the model takes {inputLength} ({side}x{side} pixels).");
            return hasInput ? new Query(values, null, k, null) : new Query(null, values, k, null);
        }
        catch (Exception ex) when (ex is ArgumentException or JsonException or InvalidDataException or FormatException or BadHttpRequestException
            || (ex is IOException && !cancel.IsCancellationRequested))
        {
            return Fail(ex.Message);
        }
    }

    private static Query Fail(string reason) => new(null, null, 0, Bad(reason));

    private static bool TryParseK(string text, out int k) => int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out k);

    private static float[] ReadNumbers(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Array)
            throw new ArgumentException($"\"{name}\" must be an array of numbers.");
        var values = new float[element.GetArrayLength()];
        int i = 0;
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetSingle(out float value) || !float.IsFinite(value))
                throw new ArgumentException($"\"{name}\"[{i}] is not a finite number.");
            values[i++] = value;
        }

        return values;
    }
}
