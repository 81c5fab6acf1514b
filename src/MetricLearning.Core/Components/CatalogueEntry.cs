namespace MetricLearning.Components;

/// <summary>One named component of a catalogue (<see cref="LossCatalogue"/>, <see cref="MinerCatalogue"/>, <see cref="ReducerCatalogue"/>): the name to choose it by, and what it is.</summary>
/// <param name="Name">The name, lower case with hyphens, as command lines and configuration take it.</param>
/// <param name="Description">What it is, in a line: the class, its paper or source, its defaults.</param>
public sealed record CatalogueEntry(string Name, string Description);
