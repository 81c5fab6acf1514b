"""Expected picks of MetricLearning's TripletMarginMiner, BatchEasyHardMiner, AngularMiner, DistanceWeightedMiner and
UniformHistogramMiner, computed by pytorch-metric-learning 2.8.1's own code. Regenerate with:

    /usr/bin/python3 tests/pml-reference/generate_miners.py /tmp/pml/src tests/MetricLearning.Tests/Core/Losses/Fixtures/pml-2.8.1-miners.json

Runs PML from a source checkout at v2.8.1 with Debian's python3-torch, in float64, on the four input sets of
pml_common.inputs(). Read by tests/MetricLearning.Tests/Core/Mining/PmlMinersReferenceTests.cs. What is recorded:
- deterministic miners (TripletMarginMiner, BatchEasyHardMiner, AngularMiner): what PML mines;
- DistanceWeightedMiner, which draws at random: the sampling weights PML hands to its draw (captured by wrapping
  lmu.get_random_triplet_indices; a row PML leaves as NaN, 0 / 0 for an anchor with no drawable negative, is written
  as zeros) and the anchors PML drew (their number per anchor does not depend on the draw);
- UniformHistogramMiner, which draws at random: the candidates of every non-empty bin, in bin order (captured by
  replacing torch.multinomial, during the call, with one that returns every candidate of the bin), and how many pairs
  a real draw gives.
"""
import math
import os
import sys

pml_src, output = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pml_common as common  # noqa: E402

pytorch_metric_learning = common.setup(pml_src)
import torch  # noqa: E402
from pytorch_metric_learning import distances, miners  # noqa: E402
from pytorch_metric_learning.utils import loss_and_miner_utils as lmu  # noqa: E402

STRATEGY = {"Easy": "easy", "SemiHard": "semihard", "Hard": "hard", "All": "all"}


def distance_of(settings):
    return distances.CosineSimilarity() if settings.get("distance") == "CosineSimilarity" else None


def with_distance(settings, **kwargs):
    d = distance_of(settings)
    if d is not None:
        kwargs["distance"] = d
    return kwargs


def triplet_margin_cases():
    cases = []
    for difficulty in ["All", "Hard", "SemiHard", "Easy"]:
        cases.append({"margin": 0.2, "difficulty": difficulty})
    cases.append({"margin": 0.5, "difficulty": "SemiHard"})
    cases.append({"margin": 0.1, "difficulty": "All", "distance": "CosineSimilarity"})
    cases.append({"margin": 0.1, "difficulty": "Hard", "distance": "CosineSimilarity"})
    return [("TripletMarginMiner", s, miners.TripletMarginMiner(**with_distance(
        s, margin=s["margin"], type_of_triplets=STRATEGY[s["difficulty"]]))) for s in cases]


def batch_easy_hard_cases():
    cases = [
        {},  # PML's defaults: easy positives, semi-hard negatives
        {"positiveStrategy": "Hard", "negativeStrategy": "Hard"},
        {"positiveStrategy": "SemiHard", "negativeStrategy": "Hard"},
        {"positiveStrategy": "SemiHard", "negativeStrategy": "Easy"},
        {"positiveStrategy": "Hard", "negativeStrategy": "SemiHard"},
        {"positiveStrategy": "Easy", "negativeStrategy": "Easy"},
        {"positiveStrategy": "All", "negativeStrategy": "Hard"},
        {"positiveStrategy": "Easy", "negativeStrategy": "All"},
        {"positiveStrategy": "All", "negativeStrategy": "All"},
        {"positiveStrategy": "Hard", "negativeStrategy": "Hard", "allowedPositiveRange": [0.3, 1.2], "allowedNegativeRange": [0.6, 1.5]},
        {"positiveStrategy": "Easy", "negativeStrategy": "SemiHard", "allowedNegativeRange": [0.0, 1.3]},
        {"positiveStrategy": "Hard", "negativeStrategy": "SemiHard", "distance": "CosineSimilarity"},
        {"positiveStrategy": "SemiHard", "negativeStrategy": "Hard", "distance": "CosineSimilarity", "allowedPositiveRange": [-0.5, 0.9]},
    ]
    result = []
    for s in cases:
        kwargs = with_distance(s)
        if "positiveStrategy" in s:
            kwargs.update(pos_strategy=STRATEGY[s["positiveStrategy"]], neg_strategy=STRATEGY[s["negativeStrategy"]])
        if "allowedPositiveRange" in s:
            kwargs["allowed_pos_range"] = s["allowedPositiveRange"]
        if "allowedNegativeRange" in s:
            kwargs["allowed_neg_range"] = s["allowedNegativeRange"]
        result.append(("BatchEasyHardMiner", s, miners.BatchEasyHardMiner(**kwargs)))
    return result


def angular_cases():
    # PML's angle is in degrees; the C# test converts to radians, ours.
    return [("AngularMiner", {"angleDegrees": a}, miners.AngularMiner(angle=a)) for a in [20, 25, 40]]


def check_angles_clear_of_threshold(degrees, embeddings, labels):
    """Ours leaves out PML's 1e-6 in pairwise_distance: make sure no triplet's angle is that close to the threshold."""
    a, p, n = lmu.get_all_triplets_indices(torch.tensor(labels))
    x = embeddings
    c = (x[a] + x[p]) / 2
    angles = torch.atan((x[a] - x[p]).norm(dim=1) / (2 * (x[n] - c).norm(dim=1)))
    if len(angles) > 0:
        gap = (angles - math.radians(degrees)).abs().min().item()
        assert gap > 1e-4, f"an angle is within {gap} of {degrees} degrees"


def mined_entry(name, settings, miner, set_name, embeddings, labels):
    if name == "AngularMiner":
        check_angles_clear_of_threshold(settings["angleDegrees"], embeddings, labels)
    return common.miner_entry(name, settings, miner, set_name, embeddings, labels)


def distance_weighted_entry(settings, set_name, embeddings, labels):
    miner = miners.DistanceWeightedMiner(cutoff=settings["cutoff"], nonzero_loss_cutoff=settings["nonzeroLossCutoff"])
    captured = {}
    original = lmu.get_random_triplet_indices

    def capture(labels, ref_labels=None, t_per_anchor=None, weights=None):
        captured["weights"] = weights.clone()
        return original(labels, ref_labels=ref_labels, t_per_anchor=t_per_anchor, weights=weights)

    lmu.get_random_triplet_indices = capture
    try:
        torch.manual_seed(0)
        anchors, positives, negatives = miner(embeddings, torch.tensor(labels))
    finally:
        lmu.get_random_triplet_indices = original
    weights = torch.nan_to_num(captured["weights"], nan=0.0)
    return {"name": "DistanceWeightedMiner", "settings": settings, "input": set_name,
            "weights": weights.tolist(), "anchors": sorted(anchors.tolist())}


def uniform_histogram_entry(settings, set_name, embeddings, labels):
    kwargs = with_distance(settings, num_bins=settings["bins"], pos_per_bin=settings["positivesPerBin"],
                           neg_per_bin=settings["negativesPerBin"])
    miner = miners.UniformHistogramMiner(**kwargs)
    torch.manual_seed(0)
    drawn = miner(embeddings, torch.tensor(labels))
    sizes = []
    original = torch.multinomial

    def every_candidate(weights, num_samples, replacement=False):
        sizes.append(len(weights))
        return torch.arange(len(weights))

    torch.multinomial = every_candidate
    try:
        a1, p, a2, n = miner(embeddings, torch.tensor(labels))
    finally:
        torch.multinomial = original

    def chunks(anchors, others):
        anchors, others, result = anchors.tolist(), others.tolist(), []
        start = 0
        while start < len(anchors):
            size = sizes.pop(0)
            result.append([[a, o] for a, o in zip(anchors[start:start + size], others[start:start + size])])
            start += size
        return result

    return {"name": "UniformHistogramMiner", "settings": settings, "input": set_name,
            "positive_bins": chunks(a1, p), "negative_bins": chunks(a2, n),
            "positive_count": len(drawn[0]), "negative_count": len(drawn[2])}


def main():
    sets = common.inputs()
    result = common.header(pml_src, "tests/pml-reference/generate_miners.py")
    result.update({"inputs": common.inputs_json(sets), "miners": [], "distance_weighted": [], "uniform_histogram": []})
    for name, settings, miner in triplet_margin_cases() + batch_easy_hard_cases() + angular_cases():
        for set_name, (embeddings, labels) in sets.items():
            result["miners"].append(mined_entry(name, settings, miner, set_name, embeddings, labels))
    for settings in [{"cutoff": 0.5, "nonzeroLossCutoff": 1.4}, {"cutoff": 0.2, "nonzeroLossCutoff": 1.8}]:
        for set_name, (embeddings, labels) in sets.items():
            result["distance_weighted"].append(distance_weighted_entry(settings, set_name, embeddings, labels))
    for settings in [{"bins": 100, "positivesPerBin": 10, "negativesPerBin": 10},
                     {"bins": 5, "positivesPerBin": 3, "negativesPerBin": 7},
                     {"bins": 10, "positivesPerBin": 2, "negativesPerBin": 2, "distance": "CosineSimilarity"}]:
        for set_name, (embeddings, labels) in sets.items():
            result["uniform_histogram"].append(uniform_histogram_entry(settings, set_name, embeddings, labels))
    common.write(output, result)
    print(f"wrote {len(result['miners'])} deterministic, {len(result['distance_weighted'])} distance-weighted and "
          f"{len(result['uniform_histogram'])} uniform-histogram cases to {output}")


main()
