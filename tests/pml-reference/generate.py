"""Expected values for MetricLearning's losses and miners, computed by pytorch-metric-learning's own code.

Runs PML 2.8.1 (tag v2.8.1, commit 216a792c) from a source checkout with Debian's python3-torch, on fixed float64
inputs, and writes what each loss gives (value and gradient with respect to the embeddings) and what each miner picks,
as one JSON file that the C# tests (tests/MetricLearning.Tests/Core/Losses/PmlReferenceTests.cs) read. PML is not
needed to run the tests, only to regenerate this file:

    /usr/bin/python3 tests/pml-reference/generate.py PML_SRC OUTPUT.json

PML_SRC is the `src` folder of a PML checkout at v2.8.1. Only components with an exact PML twin are here; see the
test for what each one is compared with.
"""
import os
import sys

pml_src, output = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pml_common as common  # noqa: E402

pytorch_metric_learning = common.setup(pml_src)
import torch  # noqa: E402
from pytorch_metric_learning import distances, losses, miners, reducers, regularizers  # noqa: E402


def loss_cases():
    """(our class name, its settings as the C# test passes them, the PML loss, the PML miner or None)."""
    return [
        ("MultiSimilarityLoss", {"alpha": 2, "beta": 50, "lambda": 0.5},
         losses.MultiSimilarityLoss(alpha=2, beta=50, base=0.5), None),
        ("MultiSimilarityLoss", {"alpha": 2, "beta": 50, "lambda": 0.5, "miner": "MultiSimilarityMiner", "epsilon": 0.1},
         losses.MultiSimilarityLoss(alpha=2, beta=50, base=0.5), miners.MultiSimilarityMiner(epsilon=0.1)),
        ("MultiSimilarityLoss", {"alpha": 1, "beta": 10, "lambda": 0.2},
         losses.MultiSimilarityLoss(alpha=1, beta=10, base=0.2), None),
        # PML's triplet loss compares on the Euclidean distance of L2-normalised embeddings; ours is given that distance.
        ("TripletMarginLoss", {"margin": 0.2},
         losses.TripletMarginLoss(margin=0.2), None),
        ("TripletMarginLoss", {"margin": 0.2, "miner": "BatchHardMiner"},
         losses.TripletMarginLoss(margin=0.2), miners.BatchHardMiner()),
        ("SupConLoss", {"temperature": 0.1},
         losses.SupConLoss(temperature=0.1), None),
        ("SupConLoss", {"temperature": 0.5},
         losses.SupConLoss(temperature=0.5), None),
    ]


def reducer_cases():
    """Every PML reducer (and our MarginContrastiveLoss, PML's ContrastiveLoss) on pair, triplet and element losses.
    The class weights cover the four classes of the input sets."""
    weights = [1.0, 2.0, 0.5, 3.0]
    pair_reducers = [
        ({}, None),
        ({"reducer": "MeanReducer"}, reducers.MeanReducer()),
        ({"reducer": "SumReducer"}, reducers.SumReducer()),
        ({"reducer": "ThresholdReducer", "low": 0.1, "high": 0.6}, reducers.ThresholdReducer(low=0.1, high=0.6)),
        ({"reducer": "ThresholdReducer", "high": 0.5}, reducers.ThresholdReducer(high=0.5)),
        ({"reducer": "PerAnchorReducer"}, reducers.PerAnchorReducer()),
        ({"reducer": "PerAnchorReducer", "inner": "SumReducer"}, reducers.PerAnchorReducer(reducer=reducers.SumReducer())),
        ({"reducer": "ClassWeightedReducer", "weights": weights}, reducers.ClassWeightedReducer(torch.tensor(weights))),
    ]
    cases = []
    for extra, reducer in pair_reducers:
        cases.append(("MarginContrastiveLoss", {"positiveMargin": 0.2, "negativeMargin": 0.8, **extra},
                      losses.ContrastiveLoss(pos_margin=0.2, neg_margin=0.8, reducer=reducer), None))
    cases.append(("MarginContrastiveLoss", {"positiveMargin": 0, "negativeMargin": 1},
                  losses.ContrastiveLoss(), None))
    cases.append(("MarginContrastiveLoss", {"positiveMargin": 0.8, "negativeMargin": 0.3, "distance": "CosineSimilarity"},
                  losses.ContrastiveLoss(pos_margin=0.8, neg_margin=0.3, distance=distances.CosineSimilarity()), None))
    for extra, reducer in [({"reducer": "MeanReducer"}, reducers.MeanReducer()), ({"reducer": "SumReducer"}, reducers.SumReducer()),
                           ({"reducer": "ThresholdReducer", "low": 0.05, "high": 0.3}, reducers.ThresholdReducer(low=0.05, high=0.3)),
                           ({"reducer": "ClassWeightedReducer", "weights": weights}, reducers.ClassWeightedReducer(torch.tensor(weights)))]:
        cases.append(("TripletMarginLoss", {"margin": 0.2, **extra}, losses.TripletMarginLoss(margin=0.2, reducer=reducer), None))
    # Not ClassWeightedReducer: PML's multi-similarity values are [N, 1], so PML multiplies them by the [N] weights as an
    # outer product and averages that (the mean loss times the mean weight), where ours weights each anchor's value.
    for extra, reducer in [({"reducer": "SumReducer"}, reducers.SumReducer()),
                           ({"reducer": "ThresholdReducer", "low": 0.5}, reducers.ThresholdReducer(low=0.5))]:
        cases.append(("MultiSimilarityLoss", {"alpha": 2, "beta": 50, "lambda": 0.5, **extra},
                      losses.MultiSimilarityLoss(alpha=2, beta=50, base=0.5, reducer=reducer), None))
    # PML's SupConLoss reduces with AvgNonZeroReducer by default; ours is given it.
    cases.append(("SupConLoss", {"temperature": 0.1, "reducer": "AvgNonZeroReducer"}, losses.SupConLoss(temperature=0.1), None))
    return cases


def regularizer_cases(rows):
    """Every PML regularizer on its own; sparse centres with the input's rows split into classes of equal size."""
    per_class = 3 if rows % 3 == 0 else 2
    return [
        ("LpRegularizer", {}, regularizers.LpRegularizer()),
        ("LpRegularizer", {"p": 1, "power": 2}, regularizers.LpRegularizer(p=1, power=2)),
        ("ZeroMeanRegularizer", {}, regularizers.ZeroMeanRegularizer()),
        ("CenterInvariantRegularizer", {}, regularizers.CenterInvariantRegularizer()),
        ("RegularFaceRegularizer", {}, regularizers.RegularFaceRegularizer()),
        ("SparseCentersRegularizer", {"classes": rows // per_class, "centersPerClass": per_class},
         regularizers.SparseCentersRegularizer(num_classes=rows // per_class, centers_per_class=per_class)),
    ]


def regularizer_entry(name, settings, regularizer, set_name, rows):
    x = rows.clone().requires_grad_(True)
    value = regularizer(x)
    value.backward()
    return {"name": name, "settings": settings, "input": set_name, "loss": value.item(), "gradient": x.grad.tolist()}


def regularized_loss_cases():
    """Regularizers attached to losses, as PML attaches them: on the embeddings, or on a loss's class vectors."""
    return [
        ("MarginContrastiveLoss", {"positiveMargin": 0.2, "negativeMargin": 0.8, "embeddingRegularizer": "LpRegularizer", "embeddingRegularizerWeight": 0.5},
         losses.ContrastiveLoss(pos_margin=0.2, neg_margin=0.8, embedding_regularizer=regularizers.LpRegularizer(), embedding_reg_weight=0.5)),
        ("TripletMarginLoss", {"margin": 0.2, "embeddingRegularizer": "ZeroMeanRegularizer", "embeddingRegularizerWeight": 0.1},
         losses.TripletMarginLoss(margin=0.2, embedding_regularizer=regularizers.ZeroMeanRegularizer(), embedding_reg_weight=0.1)),
    ]


def weighted_regularized_cases(classes, width):
    torch.manual_seed(3)
    return [
        ("ArcFaceLoss", {"margin": 0.5, "scale": 64, "weightRegularizer": "RegularFaceRegularizer", "weightRegularizerWeight": 2.0},
         losses.ArcFaceLoss(num_classes=classes, embedding_size=width, margin=28.64788975654116, scale=64,
                            weight_regularizer=regularizers.RegularFaceRegularizer(), weight_reg_weight=2.0), "W", True),
        ("ProxyAnchorLoss", {"alpha": 32, "delta": 0.1, "weightRegularizer": "CenterInvariantRegularizer", "weightRegularizerWeight": 1.0},
         losses.ProxyAnchorLoss(num_classes=classes, embedding_size=width, margin=0.1, alpha=32,
                                weight_regularizer=regularizers.CenterInvariantRegularizer()), "proxies", False),
    ]


def miner_cases():
    return [
        ("MultiSimilarityMiner", {"epsilon": 0.1}, miners.MultiSimilarityMiner(epsilon=0.1)),
        ("PairMarginMiner", {"positiveMargin": 0.2, "negativeMargin": 0.8}, miners.PairMarginMiner(pos_margin=0.2, neg_margin=0.8)),
        ("BatchHardMiner", {}, miners.BatchHardMiner()),
    ]


def weighted_cases(classes, width):
    """Losses with weights of their own: PML draws them; ours is given the same ones (the test copies them in)."""
    torch.manual_seed(1)
    return [
        ("ProxyAnchorLoss", {"alpha": 32, "delta": 0.1},
         losses.ProxyAnchorLoss(num_classes=classes, embedding_size=width, margin=0.1, alpha=32), "proxies", False),
        # PML's margin is in degrees; 28.6479 degrees is 0.5 radians, ours.
        ("ArcFaceLoss", {"margin": 0.5, "scale": 64},
         losses.ArcFaceLoss(num_classes=classes, embedding_size=width, margin=28.64788975654116, scale=64), "W", True),
        ("ArcFaceLoss", {"margin": 0.2, "scale": 16},
         losses.ArcFaceLoss(num_classes=classes, embedding_size=width, margin=11.459155902616464, scale=16), "W", True),
    ]


def main():
    sets = common.inputs()
    result = common.header(pml_src, "tests/pml-reference/generate.py")
    result.update({"inputs": common.inputs_json(sets), "losses": [], "miners": []})
    for name, settings, loss, miner in loss_cases() + reducer_cases():
        for set_name, (embeddings, labels) in sets.items():
            result["losses"].append(common.loss_entry(name, settings, loss, miner, set_name, embeddings, labels))
    result["weighted_losses"] = []
    for set_name, (embeddings, labels) in sets.items():
        classes = max(2, max(labels) + 1)
        for name, settings, loss, attribute, transposed in weighted_cases(classes, embeddings.shape[1]):
            result["weighted_losses"].append(common.weighted_entry(
                name, settings, loss, getattr(loss, attribute), set_name, embeddings, labels, classes, transposed))
    # Embeddings pointing away from their own class's centre, so that angle + margin passes 180 degrees, where
    # ArcFace replaces cos(angle + margin) by cos(angle) - margin * sin(margin).
    generator = torch.Generator().manual_seed(2)
    for name, settings, loss, attribute, transposed in weighted_cases(3, 4):
        if name != "ArcFaceLoss":
            continue
        labels = [0, 1, 2, 0, 1, 2]
        centres = loss.W.detach().t()
        embeddings = -centres[labels] + 0.05 * torch.randn(6, 4, generator=generator)
        entry = common.weighted_entry(name, settings, loss, loss.W, "opposite", embeddings, labels, 3, transposed)
        entry.update({"embeddings": embeddings.tolist(), "labels": labels})
        result["weighted_losses"].append(entry)
    result["regularizers"] = []
    for set_name, (embeddings, labels) in sets.items():
        for name, settings, regularizer in regularizer_cases(embeddings.shape[0]):
            result["regularizers"].append(regularizer_entry(name, settings, regularizer, set_name, embeddings))
    for name, settings, loss in regularized_loss_cases():
        for set_name, (embeddings, labels) in sets.items():
            result["losses"].append(common.loss_entry(name, settings, loss, None, set_name, embeddings, labels))
    for set_name, (embeddings, labels) in sets.items():
        classes = max(2, max(labels) + 1)
        for name, settings, loss, attribute, transposed in weighted_regularized_cases(classes, embeddings.shape[1]):
            result["weighted_losses"].append(common.weighted_entry(
                name, settings, loss, getattr(loss, attribute), set_name, embeddings, labels, classes, transposed))
    for name, settings, miner in miner_cases():
        for set_name, (embeddings, labels) in sets.items():
            result["miners"].append(common.miner_entry(name, settings, miner, set_name, embeddings, labels))
    common.write(output, result)
    print(f"wrote {len(result['losses'])} loss cases, {len(result['weighted_losses'])} with weights of their own, "
          f"{len(result['regularizers'])} regularizer cases and {len(result['miners'])} miner cases to {output}")


main()
