using System.IO;

namespace SearchService;

/// <summary>What the service serves; bound from the "SearchService" configuration section (or --model, --index, --images).</summary>
public sealed class SearchServiceOptions
{
    /// <summary>A model folder written by TrainedModel.Save (RetrievalMnist --save writes DIR/model).</summary>
    public string Model { get; set; } = "";

    /// <summary>An index file: an EmbeddingIndex (exact, index.bin) or an ApproximateIndex (HNSW, index.ann) of the same model's embeddings.</summary>
    public string Index { get; set; } = "";

    /// <summary>The IDX images file the index was built from, in the same order: the index's keys must be positions in it (as RetrievalMnist --save and BatchEmbed make them); shown as the neighbours' pictures.</summary>
    public string Images { get; set; } = "";

    /// <summary>Optional: an IDX images file of example queries (for MNIST, the test set) the page offers with "Try an example".</summary>
    public string? Examples { get; set; }

    /// <summary>Largest request body accepted, in bytes.</summary>
    public int MaxRequestBytes { get; set; } = 1 << 20;

    /// <summary>Largest number of neighbours a search may ask for.</summary>
    public int MaxNeighbours { get; set; } = 100;

    /// <summary>Checks the settings, naming the first that is wrong.</summary>
    public void Validate()
    {
        if (!Directory.Exists(Model))
            throw new DirectoryNotFoundException($"SearchService:Model (--model) is '{Model}', which is not a folder; give the folder of a saved model.");
        if (!File.Exists(Index))
            throw new FileNotFoundException($"SearchService:Index (--index) is '{Index}', which is not a file; give an index saved by EmbeddingIndex.Save or ApproximateIndex.Save.", Index);
        if (!File.Exists(Images))
            throw new FileNotFoundException($"SearchService:Images (--images) is '{Images}', which is not a file; give the IDX images file the index was built from.", Images);
        if (!string.IsNullOrEmpty(Examples) && !File.Exists(Examples))
            throw new FileNotFoundException($"SearchService:Examples (--examples) is '{Examples}', which is not a file; give an IDX images file, or leave it out.", Examples);
        if (MaxRequestBytes < 1024)
            throw new InvalidDataException($"SearchService:MaxRequestBytes is {MaxRequestBytes}; it must be at least 1024.");
        if (MaxNeighbours < 1)
            throw new InvalidDataException($"SearchService:MaxNeighbours is {MaxNeighbours}; it must be at least 1.");
    }
}
