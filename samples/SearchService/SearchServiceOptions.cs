using System.IO;

namespace SearchService;

/// <summary>What the service serves; bound from the "SearchService" configuration section (or --model, --index, --images).</summary>
public sealed class SearchServiceOptions
{
    /// <summary>
    /// With <see cref="Runtime"/> "torch": a model folder written by TrainedModel.Save (RetrievalMnist --save writes
    /// DIR/model). With "onnx": a file written by TrainedModel.ExportOnnx (RetrievalMnist --export-onnx).
    /// </summary>
    public string Model { get; set; } = "";

    /// <summary>What runs the model: "torch" (TrainedModel on TorchSharp, the default) or "onnx" (ONNX Runtime, MetricLearning.Onnx).</summary>
    public string Runtime { get; set; } = "torch";

    /// <summary>True when the model runs on ONNX Runtime.</summary>
    public bool UsesOnnx => Runtime == "onnx";

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
        if (Runtime is not ("torch" or "onnx"))
            throw new InvalidDataException($"SearchService:Runtime (--runtime) is '{Runtime}'; it must be torch or onnx.");
        if (UsesOnnx && !File.Exists(Model))
            throw new FileNotFoundException($"SearchService:Model (--model) is '{Model}', which is not a file; with --runtime onnx give a model exported by TrainedModel.ExportOnnx.", Model);
        if (!UsesOnnx && !Directory.Exists(Model))
            throw new DirectoryNotFoundException($"SearchService:Model (--model) is '{Model}', which is not a folder; give the folder of a saved model (or an exported .onnx file with --runtime onnx).");
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
