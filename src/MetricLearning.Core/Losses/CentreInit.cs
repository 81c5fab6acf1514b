namespace MetricLearning.Losses;

/// <summary>How <see cref="ClassCentres"/> draws the class vectors.</summary>
internal enum CentreInit
{
    /// <summary>Standard normal (torch.nn.init.normal_, PML's default).</summary>
    Normal,

    /// <summary>
    /// Uniform in ±1/√(rows), which is torch.nn.init.kaiming_uniform_ with a = √5 on PML's transposed
    /// <c>[embeddingSize, rows]</c> weights (fan-in = rows): PML's SoftTripleLoss's default.
    /// </summary>
    KaimingUniformOfTransposed,
}
