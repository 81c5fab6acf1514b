using System.CommandLine;
using System.Linq;
using MetricLearning.Components;

namespace MetricLearning.Samples;

/// <summary>
/// The options that choose a batch loss, a miner and a reducer by their catalogue names, the same in every retrieval
/// sample (compiled into each): --loss, --miner, --reducer, --reducer-low and --reducer-high.
/// </summary>
internal sealed class CatalogueOptions
{
    internal Option<string> Loss { get; } = new("--loss") { Description = "The batch loss, by name: " + string.Join(", ", LossCatalogue.Names) + ". Each with its defaults; see the docs' loss catalogue.", DefaultValueFactory = _ => "multi-similarity" };

    internal Option<string> Miner { get; } = new("--miner") { Description = "The miner: auto (the one the loss's paper uses: multi-similarity for multi-similarity, semi-hard for triplet, distance-weighted for margin; none otherwise) or " + string.Join(", ", MinerCatalogue.Names) + ".", DefaultValueFactory = _ => MinerCatalogue.Auto };

    internal Option<string> Reducer { get; } = new("--reducer") { Description = "How the loss's per-pair (or per-triplet, per-anchor) values become one: " + string.Join(", ", ReducerCatalogue.Names) + ". threshold takes --reducer-low and/or --reducer-high; class-weighted weighs classes by inverse frequency.", DefaultValueFactory = _ => "default" };

    internal Option<double?> ReducerLow { get; } = new("--reducer-low") { Description = "With --reducer threshold: values must be above this." };

    internal Option<double?> ReducerHigh { get; } = new("--reducer-high") { Description = "With --reducer threshold: values must be below this." };

    internal CatalogueOptions()
    {
        Loss.AcceptOnlyFromAmong(LossCatalogue.Names.ToArray());
        Miner.AcceptOnlyFromAmong(MinerCatalogue.Names.Prepend(MinerCatalogue.Auto).ToArray());
        Reducer.AcceptOnlyFromAmong(ReducerCatalogue.Names.ToArray());
    }
}
