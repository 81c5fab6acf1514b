namespace MetricLearning.VectorData;

/// <summary>
/// A record as a collection keeps it, whatever the record type: its key, its data values (in the model's order of
/// data properties) and its vectors (in the order of vector properties; null where it has none). Its key, data and
/// vectors never change once stored (an upsert stores a new record); its id is set when it is stored, and its shadow
/// when a filter first needs it.
/// </summary>
internal sealed class StoredRecord
{
    internal StoredRecord(object key, object?[] data, float[]?[] vectors)
    {
        Key = key;
        Data = data;
        Vectors = vectors;
    }

    /// <summary>The collection's own number for it, new on every write: what the indexes know it by.</summary>
    internal long Id { get; set; }

    internal object Key { get; }

    internal object?[] Data { get; }

    internal float[]?[] Vectors { get; }

    /// <summary>
    /// A record with the key and data set, kept to run LINQ filters on (never handed out), and the shape it was made
    /// for (record type and property names, an interned string: handles of the same shape share it). One reference,
    /// so that threads filling it at once never mix two shapes.
    /// </summary>
    internal System.Tuple<object, object>? Shadow { get; set; }
}
