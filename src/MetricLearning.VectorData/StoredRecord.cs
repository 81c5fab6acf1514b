namespace MetricLearning.VectorData;

/// <summary>
/// A record as a collection keeps it, whatever the record type: its key, its data values (in the model's order of
/// data properties) and its vectors (in the order of vector properties; null where it has none). Never changed once
/// stored: an upsert stores a new one.
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
    /// The handle that made it and a record of that handle's type with the key and data set, kept to run the handle's
    /// LINQ filters on; never handed out. One reference, so that threads filling it at once never mix two handles'.
    /// </summary>
    internal System.Tuple<object, object>? Shadow { get; set; }
}
