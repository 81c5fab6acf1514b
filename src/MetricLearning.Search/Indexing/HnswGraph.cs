using System;
using System.Buffers.Binary;
using System.IO;
using System.Runtime.InteropServices;

namespace MetricLearning.Indexing;

/// <summary>
/// A thin, internal binding to USearch's C library (<c>libusearch_c</c>, shipped for each platform by the
/// Cloud.Unum.USearch package): the calls <see cref="ApproximateIndex"/> needs that the package's managed wrapper
/// does not expose (reserving room for a bulk add so that several threads add at once, changing the search breadth of
/// a built graph, serialising to memory instead of a temporary file, memory usage).
/// </summary>
/// <remarks>Not thread-safe by itself; <see cref="ApproximateIndex"/> decides who calls what when.</remarks>
internal sealed class HnswGraph : IDisposable
{
    private const string Library = "libusearch_c";

    /// <summary>USearch's <c>usearch_metric_kind_t</c>.</summary>
    internal enum MetricKind
    {
        Cosine = 1,
        InnerProduct = 2,
        SquaredEuclidean = 3,
    }

    /// <summary>USearch's <c>usearch_scalar_kind_t</c>: how vectors are stored.</summary>
    internal enum ScalarKind
    {
        Float32 = 1,
        Float16 = 3,
        Int8 = 4,
    }

    private IntPtr _handle;

    private HnswGraph(IntPtr handle, int dimensions)
    {
        _handle = handle;
        Dimensions = dimensions;
    }

    /// <summary>Width of every vector.</summary>
    internal int Dimensions { get; }

    /// <summary>Creates an empty graph; vectors are given as float32 and stored as <paramref name="storage"/>.</summary>
    internal static HnswGraph Create(MetricKind metric, ScalarKind storage, int dimensions, int connectivity, int buildBreadth, int searchBreadth)
    {
        var options = new InitOptions
        {
            MetricKind = metric,
            Quantization = storage,
            Dimensions = (nuint)dimensions,
            Connectivity = (nuint)connectivity,
            ExpansionAdd = (nuint)buildBreadth,
            ExpansionSearch = (nuint)searchBreadth,
        };
        IntPtr handle = usearch_init(ref options, out IntPtr error);
        Check(error, "create an index");
        if (handle == IntPtr.Zero)
            throw new InvalidOperationException("USearch could not create an index and gave no reason.");
        return new HnswGraph(handle, dimensions);
    }

    /// <summary>How many vectors the graph holds (removed ones excluded).</summary>
    internal long Size
    {
        get
        {
            nuint size = usearch_size(Handle, out IntPtr error);
            Check(error, "read the size");
            return (long)size;
        }
    }

    /// <summary>How many vectors the graph has room for (removed ones still take room until they are reused).</summary>
    internal long Capacity
    {
        get
        {
            nuint capacity = usearch_capacity(Handle, out IntPtr error);
            Check(error, "read the capacity");
            return (long)capacity;
        }
    }

    /// <summary>The width of the vectors the native graph holds (after a load, what the loaded bytes said).</summary>
    internal long NativeDimensions
    {
        get
        {
            nuint dimensions = usearch_dimensions(Handle, out IntPtr error);
            Check(error, "read the width");
            return (long)dimensions;
        }
    }

    /// <summary>Whether the graph holds a vector under <paramref name="key"/>.</summary>
    internal bool Contains(ulong key)
    {
        bool found = usearch_contains(Handle, key, out IntPtr error);
        Check(error, $"look up key {key}");
        return found;
    }

    /// <summary>Bytes the graph and its vectors occupy in memory.</summary>
    internal long MemoryBytes
    {
        get
        {
            nuint bytes = usearch_memory_usage(Handle, out IntPtr error);
            Check(error, "read the memory usage");
            return (long)bytes;
        }
    }

    /// <summary>
    /// Makes room for <paramref name="more"/> vectors beyond the current capacity (never less room than the graph
    /// has: after removals and a load, USearch must not be asked to shrink below its nodes), and sets how many threads
    /// may add or search at once (USearch keeps one context per thread; more concurrent callers than contexts is not
    /// allowed).
    /// </summary>
    internal void Reserve(long more, int threads)
    {
        long capacity = Math.Max(Capacity, Size) + more;
        usearch_reserve(Handle, (nuint)capacity, out IntPtr error);
        Check(error, $"reserve room for {capacity} vectors");
        usearch_change_threads_add(Handle, (nuint)threads, out error);
        Check(error, $"allow {threads} threads to add");
        usearch_change_threads_search(Handle, (nuint)threads, out error);
        Check(error, $"allow {threads} threads to search");
    }

    /// <summary>Adds one vector; safe to call from as many threads at once as <see cref="Reserve"/> allowed.</summary>
    internal void Add(ulong key, float[] vector)
    {
        usearch_add(Handle, key, vector, ScalarKind.Float32, out IntPtr error);
        Check(error, $"add the vector of key {key}");
    }

    /// <summary>Removes a key's vector.</summary>
    internal void Remove(ulong key)
    {
        usearch_remove(Handle, key, out IntPtr error);
        Check(error, $"remove key {key}");
    }

    /// <summary>The nearest vectors to a query: writes keys and USearch distances, returns how many were found.</summary>
    internal int Search(float[] query, ulong[] keys, float[] distances)
    {
        nuint found = usearch_search(Handle, query, ScalarKind.Float32, (nuint)keys.Length, keys, distances, out IntPtr error);
        Check(error, "search");
        return (int)found;
    }

    /// <summary>Sets how many candidates a search examines (ef).</summary>
    internal void SetSearchBreadth(int breadth)
    {
        usearch_change_expansion_search(Handle, (nuint)breadth, out IntPtr error);
        Check(error, $"set the search breadth to {breadth}");
    }

    /// <summary>
    /// Writes the graph's length (int64) and the graph (USearch's own format) to a stream, through a native buffer of
    /// its exact size: saving needs that much memory again for a moment, as loading does.
    /// </summary>
    internal void WriteTo(Stream stream)
    {
        long length = (long)usearch_serialized_length(Handle, out IntPtr error);
        Check(error, "measure the serialised graph");
        IntPtr buffer = Marshal.AllocHGlobal((nint)length);
        try
        {
            usearch_save_buffer(Handle, buffer, (nuint)length, out error);
            Check(error, "serialise the graph");
            Span<byte> header = stackalloc byte[sizeof(long)];
            BinaryPrimitives.WriteInt64LittleEndian(header, length);
            stream.Write(header);
            var chunk = new byte[1 << 20];
            for (long done = 0; done < length; done += chunk.Length)
            {
                int size = (int)Math.Min(chunk.Length, length - done);
                Marshal.Copy(buffer + (nint)done, chunk, 0, size);
                stream.Write(chunk, 0, size);
            }
        }
        finally
        {
            Marshal.FreeHGlobal(buffer);
        }
    }

    /// <summary>Replaces this graph's contents with a graph read from <paramref name="length"/> bytes of a stream.</summary>
    /// <exception cref="InvalidDataException">USearch refused the bytes.</exception>
    internal void ReadFrom(Stream stream, long length)
    {
        IntPtr buffer = Marshal.AllocHGlobal((nint)length);
        try
        {
            var chunk = new byte[1 << 20];
            for (long done = 0; done < length; done += chunk.Length)
            {
                int size = (int)Math.Min(chunk.Length, length - done);
                stream.ReadExactly(chunk, 0, size);
                Marshal.Copy(chunk, 0, buffer + (nint)done, size);
            }

            usearch_load_buffer(Handle, buffer, (nuint)length, out IntPtr error);
            if (error != IntPtr.Zero)
                throw new InvalidDataException($"USearch refused the graph: {Marshal.PtrToStringUTF8(error)}.");
        }
        finally
        {
            Marshal.FreeHGlobal(buffer);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the native graph of an index nobody disposed.</summary>
    ~HnswGraph() => Free();

    private void Free()
    {
        if (_handle == IntPtr.Zero)
            return;
        usearch_free(_handle, out _);
        _handle = IntPtr.Zero;
    }

    private IntPtr Handle => _handle != IntPtr.Zero ? _handle : throw new ObjectDisposedException(nameof(HnswGraph));

    private static void Check(IntPtr error, string what)
    {
        if (error != IntPtr.Zero)
            throw new InvalidOperationException($"USearch could not {what}: {Marshal.PtrToStringUTF8(error)}.");
    }

    /// <summary>USearch's <c>usearch_init_options_t</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct InitOptions
    {
        public MetricKind MetricKind;
        public IntPtr Metric;
        public ScalarKind Quantization;
        public nuint Dimensions;
        public nuint Connectivity;
        public nuint ExpansionAdd;
        public nuint ExpansionSearch;
        public byte Multi;
    }

    [DllImport(Library)] private static extern IntPtr usearch_init(ref InitOptions options, out IntPtr error);
    [DllImport(Library)] private static extern void usearch_free(IntPtr index, out IntPtr error);
    [DllImport(Library)] private static extern nuint usearch_size(IntPtr index, out IntPtr error);
    [DllImport(Library)] private static extern nuint usearch_capacity(IntPtr index, out IntPtr error);
    [DllImport(Library)] private static extern nuint usearch_dimensions(IntPtr index, out IntPtr error);
    [DllImport(Library)] [return: MarshalAs(UnmanagedType.U1)] private static extern bool usearch_contains(IntPtr index, ulong key, out IntPtr error);
    [DllImport(Library)] private static extern nuint usearch_memory_usage(IntPtr index, out IntPtr error);
    [DllImport(Library)] private static extern void usearch_reserve(IntPtr index, nuint capacity, out IntPtr error);
    [DllImport(Library)] private static extern void usearch_add(IntPtr index, ulong key, float[] vector, ScalarKind kind, out IntPtr error);
    [DllImport(Library)] private static extern nuint usearch_remove(IntPtr index, ulong key, out IntPtr error);
    [DllImport(Library)] private static extern nuint usearch_search(IntPtr index, float[] query, ScalarKind kind, nuint count, [Out] ulong[] keys, [Out] float[] distances, out IntPtr error);
    [DllImport(Library)] private static extern void usearch_change_expansion_search(IntPtr index, nuint expansion, out IntPtr error);
    [DllImport(Library)] private static extern void usearch_change_threads_add(IntPtr index, nuint threads, out IntPtr error);
    [DllImport(Library)] private static extern void usearch_change_threads_search(IntPtr index, nuint threads, out IntPtr error);
    [DllImport(Library)] private static extern nuint usearch_serialized_length(IntPtr index, out IntPtr error);
    [DllImport(Library)] private static extern void usearch_save_buffer(IntPtr index, IntPtr buffer, nuint length, out IntPtr error);
    [DllImport(Library)] private static extern void usearch_load_buffer(IntPtr index, IntPtr buffer, nuint length, out IntPtr error);
}
