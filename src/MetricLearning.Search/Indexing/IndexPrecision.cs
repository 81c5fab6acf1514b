namespace MetricLearning.Indexing;

/// <summary>How an <see cref="ApproximateIndex"/> stores its vectors: less precision is less memory and faster search, with scores a little less exact.</summary>
public enum IndexPrecision
{
    /// <summary>As given (4 bytes a value): scores are the exact similarity or distance of the vector found.</summary>
    Float32,

    /// <summary>
    /// Half precision (2 bytes a value): about half the memory, and faster builds and searches once the vectors outgrow
    /// the caches (each step of the graph walk reads half the bytes; docs/performance.md measures it); scores within
    /// about 1e-2 (cosine), recall a little lower at the same settings. The setting to try first for a large index.
    /// </summary>
    Float16,

    /// <summary>
    /// Bytes (1 a value), each vector normalised and scaled to [-127, 127]: a quarter of the memory and the fastest
    /// search; <see cref="IndexMetric.Cosine"/> only (it keeps a vector's direction, not its length); scores within
    /// about 5e-2, and near neighbours may change order (measure recall on your data).
    /// </summary>
    Int8,
}
