using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MetricLearning.Networks;

/// <summary>
/// Moves weights between TorchSharp modules and PyTorch: loads a PyTorch <c>state_dict</c> file
/// (<c>torch.save(model.state_dict(), path)</c>) or a safetensors file into a module, and saves a module so that
/// PyTorch's <c>model.load_state_dict(torch.load(path))</c> (or <c>safetensors.torch.load_file</c>) reads it.
/// </summary>
/// <remarks>
/// <para>
/// Names are mapped explicitly (see <see cref="PyTorchWeightsOptions"/>) and checked: a tensor the module has and the
/// file lacks, one the file has and the module lacks, or one whose shape differs is a
/// <see cref="WeightsMismatchException"/> naming every such tensor, and then nothing is loaded. The one tolerated
/// absence is a batch-norm <c>num_batches_tracked</c> counter, which files saved before PyTorch 0.4.1 (torchvision's
/// original ResNet weights among them) lack: the module keeps its own, as PyTorch's loader does. Floating-point tensors
/// are converted to the module's dtype (a float16 file loads into a float32 network) and copied to the module's device.
/// </para>
/// <para>
/// Reading is done by TorchSharp.PyBridge, which reads pickles as data only (it runs no Python code); a file that is
/// not a state_dict (a whole pickled model, a training checkpoint dictionary, a damaged file) is an
/// <see cref="InvalidDataException"/> naming it. A safetensors header is checked before any tensor is allocated. Load
/// files you trust: a state_dict file states its tensors' sizes, and memory is reserved for them as stated. Saving is
/// atomic (a temporary file, then a rename). Not thread-safe for one module.
/// </para>
/// </remarks>
public static class PyTorchWeights
{
    // Hugging Face's own limit for the JSON header of a safetensors file.
    private const long MaxSafetensorsHeaderBytes = 100_000_000;

    /// <summary>Loads a PyTorch state_dict or safetensors file into <paramref name="module"/>, all of it or nothing.</summary>
    /// <param name="module">The module whose parameters and buffers receive the weights.</param>
    /// <param name="path">The weights file.</param>
    /// <param name="options">Name mapping and format; null for the defaults (same names, format by file name).</param>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="WeightsMismatchException">The file's tensors do not match the module's; nothing was loaded.</exception>
    /// <exception cref="InvalidDataException">The file is not a state_dict or safetensors file this library can read.</exception>
    public static void Load(nn.Module module, string path, PyTorchWeightsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        options ??= new PyTorchWeightsOptions();
        string prefix = options.KeyPrefix ?? "";
        if (!File.Exists(path))
            throw new FileNotFoundException($"There is no weights file at '{path}'.", path);

        var stored = Read(path, Resolve(path, options.Format));
        try
        {
            var targets = module.state_dict();
            var missing = new List<string>();
            var unexpected = new List<string>();
            var mismatched = new List<string>();
            var copies = new List<(Tensor Target, Tensor Source)>();
            var matched = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (fileKey, source) in stored.OrderBy(entry => entry.Key, StringComparer.Ordinal))
            {
                if (IsIgnored(fileKey, options))
                    continue;
                if (!fileKey.StartsWith(prefix, StringComparison.Ordinal) || !targets.TryGetValue(fileKey[prefix.Length..], out var target))
                {
                    unexpected.Add(fileKey);
                    continue;
                }

                matched.Add(fileKey[prefix.Length..]);
                if (!source.shape.SequenceEqual(target.shape))
                    mismatched.Add($"{fileKey} is {TensorChecks.Shape(source)} in the file and {TensorChecks.Shape(target)} in the network");
                else if (source.is_floating_point() != target.is_floating_point() || (source.dtype == ScalarType.Bool) != (target.dtype == ScalarType.Bool))
                    mismatched.Add($"{fileKey} is {source.dtype} in the file and {target.dtype} in the network");
                else
                    copies.Add((target, source));
            }

            foreach (string key in targets.Keys)
            {
                // Batch-norm counters are missing from state_dicts saved before PyTorch 0.4.1, torchvision's original
                // ResNet files among them; PyTorch's own loader keeps the module's counter then, and so does this one.
                if (!matched.Contains(key) && !IsIgnored(prefix + key, options) && !key.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
                    missing.Add(prefix + key);
            }

            if (missing.Count > 0 || unexpected.Count > 0 || mismatched.Count > 0)
                throw new WeightsMismatchException(path, missing, unexpected, mismatched);

            // Converted to each target's dtype and device first, where running out of memory or a device error can
            // happen; only then copied in, so that a failure leaves the module as it was.
            var converted = new List<(Tensor Target, Tensor Value)>(copies.Count);
            try
            {
                foreach (var (target, source) in copies)
                    converted.Add((target, source.to(target.dtype, target.device)));
                using (no_grad())
                {
                    foreach (var (target, value) in converted)
                        target.copy_(value);
                }
            }
            finally
            {
                foreach (var (_, value) in converted)
                    value.Dispose();
            }
        }
        finally
        {
            foreach (var tensor in stored.Values)
                tensor.Dispose();
        }
    }

    /// <summary>Saves <paramref name="module"/>'s parameters and buffers so that PyTorch loads them.</summary>
    /// <param name="module">The module to save.</param>
    /// <param name="path">Where to write; an existing file is replaced only once the new one is complete.</param>
    /// <param name="options">Name mapping and format; null for the defaults (same names, format by file name).</param>
    /// <exception cref="IOException">The file could not be written.</exception>
    public static void Save(nn.Module module, string path, PyTorchWeightsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        options ??= new PyTorchWeightsOptions();
        string prefix = options.KeyPrefix ?? "";
        var format = Resolve(path, options.Format);

        // Insertion order is the module's order, which is the order PyTorch's state_dict() lists them in.
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (key, tensor) in module.state_dict())
            {
                string fileKey = prefix + key;
                if (!IsIgnored(fileKey, options))
                    tensors.Add(fileKey, HostCopy(tensor));
            }

            Write(path, format, tensors);
        }
        finally
        {
            foreach (var tensor in tensors.Values)
                tensor.Dispose();
        }
    }

    /// <summary>Reads every tensor of a weights file, keyed by its name in the file.</summary>
    /// <param name="path">The weights file.</param>
    /// <param name="format">The format; <see cref="PyTorchWeightFormat.Auto"/> decides by the file name.</param>
    /// <returns>The tensors, on the CPU, owned by the caller (dispose them).</returns>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a state_dict or safetensors file this library can read.</exception>
    public static Dictionary<string, Tensor> ReadTensors(string path, PyTorchWeightFormat format = PyTorchWeightFormat.Auto)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"There is no weights file at '{path}'.", path);
        return Read(path, Resolve(path, format));
    }

    /// <summary>
    /// Writes named tensors (embeddings, a batch and its outputs, any state) as a file that PyTorch's
    /// <c>torch.load</c> (or a safetensors reader) returns as a dictionary of tensors.
    /// </summary>
    /// <param name="path">Where to write; an existing file is replaced only once the new one is complete.</param>
    /// <param name="tensors">The tensors by name; on any device (copied to the CPU to be written). They stay the caller's.</param>
    /// <param name="format">The format; <see cref="PyTorchWeightFormat.Auto"/> decides by the file name.</param>
    /// <exception cref="ArgumentException">A name is empty or a tensor is null.</exception>
    /// <exception cref="IOException">The file could not be written.</exception>
    public static void WriteTensors(string path, IReadOnlyDictionary<string, Tensor> tensors, PyTorchWeightFormat format = PyTorchWeightFormat.Auto)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var copies = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, tensor) in tensors)
            {
                if (string.IsNullOrEmpty(name))
                    throw new ArgumentException("A tensor's name is empty.", nameof(tensors));
                if (tensor is null)
                    throw new ArgumentException($"The tensor '{name}' is null.", nameof(tensors));
                copies.Add(name, HostCopy(tensor));
            }

            Write(path, Resolve(path, format), copies);
        }
        finally
        {
            foreach (var copy in copies.Values)
                copy.Dispose();
        }
    }

    /// <summary>A contiguous CPU tensor with the values of <paramref name="tensor"/>, owned by the caller; intermediates freed at once.</summary>
    private static Tensor HostCopy(Tensor tensor)
    {
        using var scope = NewDisposeScope();
        return tensor.detach().cpu().contiguous().MoveToOuterDisposeScope();
    }

    private static void Write(string path, PyTorchWeightFormat format, Dictionary<string, Tensor> tensors)
    {
        AtomicFile.Write(path, temporary =>
        {
            using var stream = File.Create(temporary);
            if (format == PyTorchWeightFormat.Safetensors)
                Safetensors.SaveStateDict(stream, tensors, leaveOpen: true);
            else
                PyTorchPickler.PickleStateDict(stream, tensors, leaveOpen: true);
        });
    }

    private static PyTorchWeightFormat Resolve(string path, PyTorchWeightFormat format)
    {
        if (!Enum.IsDefined(format))
            throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown weights format.");
        if (format != PyTorchWeightFormat.Auto)
            return format;
        return path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? PyTorchWeightFormat.Safetensors : PyTorchWeightFormat.StateDict;
    }

    private static bool IsIgnored(string fileKey, PyTorchWeightsOptions options)
    {
        foreach (string ignored in options.IgnoredKeys)
        {
            if (string.IsNullOrEmpty(ignored))
                continue;
            if (ignored.EndsWith('.') ? fileKey.StartsWith(ignored, StringComparison.Ordinal) : fileKey == ignored)
                return true;
        }

        return false;
    }

    private static Dictionary<string, Tensor> Read(string path, PyTorchWeightFormat format)
    {
        if (format == PyTorchWeightFormat.Safetensors)
            CheckSafetensorsHeader(path);

        object loaded;
        try
        {
            using var stream = File.OpenRead(path);
            loaded = format == PyTorchWeightFormat.Safetensors
                ? Safetensors.LoadStateDict(stream, leaveOpen: true)
                : PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true);
        }
        catch (Exception exception) when (exception is not (OutOfMemoryException or UnauthorizedAccessException))
        {
            string kind = format == PyTorchWeightFormat.Safetensors ? "safetensors file" : "PyTorch state_dict (torch.save(model.state_dict(), path))";
            throw new InvalidDataException($"'{path}' could not be read as a {kind}: {exception.Message}", exception);
        }

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var entries = loaded is IDictionary dictionary ? dictionary : null;
        if (entries is null)
            throw new InvalidDataException($"'{path}' does not hold a dictionary of tensors.");
        foreach (DictionaryEntry entry in entries)
        {
            if (entry.Key is string key && entry.Value is Tensor tensor)
            {
                tensors[key] = tensor;
                continue;
            }

            foreach (var value in entries.Values)
                (value as Tensor)?.Dispose();
            throw new InvalidDataException(
                $"'{path}' holds '{entry.Key}', which is not a named tensor: save the weights alone, torch.save(model.state_dict(), path), not a checkpoint dictionary or the whole model.");
        }

        return tensors;
    }

    /// <summary>Checks a safetensors header against the file's length before anything is allocated for it.</summary>
    private static void CheckSafetensorsHeader(string path)
    {
        using var stream = File.OpenRead(path);
        long length = stream.Length;
        Span<byte> prefix = stackalloc byte[8];
        if (length < 8 || stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
            throw new InvalidDataException($"'{path}' is too short to be a safetensors file.");
        ulong headerBytes = BitConverter.ToUInt64(prefix);
        if (headerBytes > (ulong)Math.Min(length - 8, MaxSafetensorsHeaderBytes))
            throw new InvalidDataException($"'{path}' is not a safetensors file: its header claims {headerBytes:N0} bytes, and the file has {length - 8:N0} after the length.");

        var header = new byte[headerBytes];
        stream.ReadExactly(header);
        long dataBytes = length - 8 - (long)headerBytes;
        try
        {
            using var json = JsonDocument.Parse(header);
            if (json.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"'{path}' is not a safetensors file: its header is not a JSON object.");
            foreach (var property in json.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                    continue;
                CheckSafetensorsEntry(path, property, dataBytes);
            }
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a name that is not valid UTF-8.
            throw new InvalidDataException($"'{path}' is not a safetensors file: its header is not valid JSON ({exception.Message}).", exception);
        }
    }

    private static void CheckSafetensorsEntry(string path, JsonProperty property, long dataBytes)
    {
        var entry = property.Value;
        string Bad(string what) => $"'{path}' is not a valid safetensors file: tensor '{property.Name}' {what}.";
        if (entry.ValueKind != JsonValueKind.Object
            || !entry.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String
            || !entry.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array
            || !entry.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw new InvalidDataException(Bad("lacks its dtype, shape or data_offsets"));

        long elementBytes = dtype.GetString() switch
        {
            "F64" or "I64" => 8,
            "F32" or "I32" => 4,
            "F16" or "BF16" or "I16" => 2,
            "I8" or "U8" or "BOOL" => 1,
            var other => throw new InvalidDataException(Bad($"has a dtype this library does not read ({other})")),
        };

        long elements = 1;
        foreach (var size in shape.EnumerateArray())
        {
            if (size.ValueKind != JsonValueKind.Number || !size.TryGetInt64(out long extent) || extent < 0 || extent > dataBytes)
                throw new InvalidDataException(Bad("has a size that is not a whole number within the file"));
            elements = extent == 0 ? 0 : elements > dataBytes / extent ? long.MaxValue : elements * extent;
            if (elements > dataBytes)
                throw new InvalidDataException(Bad($"claims more elements than the file's {dataBytes:N0} bytes of data hold"));
        }

        if (!offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < begin || end > dataBytes)
            throw new InvalidDataException(Bad($"has data offsets outside the file's {dataBytes:N0} bytes of data"));
        if (end - begin != elements * elementBytes)
            throw new InvalidDataException(Bad($"has {end - begin:N0} bytes of data for {elements:N0} elements of {elementBytes} bytes"));
    }
}
