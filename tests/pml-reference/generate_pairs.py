"""Expected values for MetricLearning's pair losses (group "pairs") and its SNR distance, computed by
pytorch-metric-learning 2.8.1's own code on the shared input sets (pml_common.inputs()). Regenerate with:

    /usr/bin/python3 tests/pml-reference/generate_pairs.py /tmp/pml/src tests/MetricLearning.Tests/Core/Losses/Fixtures/pml-2.8.1-pairs.json

The C# test is tests/MetricLearning.Tests/Core/Losses/PmlPairsReferenceTests.cs. Cases left out, and why:
- TupletMarginLoss on "ties": a same-class pair there is at cosine -1 exactly, where arccos has an infinite slope, so
  PML's gradient is not finite (ours neither); nothing to compare.
- NPairsLoss with MultiSimilarityMiner: PML takes the first pair of each class in the miner's order, which that miner
  sorts by similarity; ours takes the lowest rows (PML's choice for every other list, which is in row order).
"""
import math
import os
import sys

pml_src, output = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pml_common as common  # noqa: E402

pytorch_metric_learning = common.setup(pml_src)
import torch  # noqa: E402
from pytorch_metric_learning import distances, losses, miners  # noqa: E402

MS = {"miner": "MultiSimilarityMiner", "epsilon": 0.1}
BH = {"miner": "BatchHardMiner"}


def ms():
    return miners.MultiSimilarityMiner(epsilon=0.1)


def loss_cases():
    """(our class name, its settings as the C# test passes them, the PML loss, the PML miner or None, input sets left out)."""
    lp = {"distance": "LpDistance"}
    cos = {"distance": "CosineSimilarity"}
    return [
        ("CircleLoss", {"m": 0.4, "gamma": 80}, losses.CircleLoss(), None, []),
        ("CircleLoss", {"m": 0.25, "gamma": 256}, losses.CircleLoss(m=0.25, gamma=256), None, []),
        ("CircleLoss", {"m": 0.4, "gamma": 80, **MS}, losses.CircleLoss(), ms(), []),
        ("NTXentLoss", {"temperature": 0.07}, losses.NTXentLoss(), None, []),
        ("NTXentLoss", {"temperature": 0.5}, losses.NTXentLoss(temperature=0.5), None, []),
        ("NTXentLoss", {"temperature": 0.5, **lp}, losses.NTXentLoss(temperature=0.5, distance=distances.LpDistance()), None, []),
        ("NTXentLoss", {"temperature": 0.07, **MS}, losses.NTXentLoss(), ms(), []),
        ("LiftedStructureLoss", {"negativeMargin": 1, "positiveMargin": 0}, losses.LiftedStructureLoss(), None, []),
        ("LiftedStructureLoss", {"negativeMargin": 0.8, "positiveMargin": 0.2},
         losses.LiftedStructureLoss(neg_margin=0.8, pos_margin=0.2), None, []),
        ("LiftedStructureLoss", {"negativeMargin": 0.3, "positiveMargin": 0.8, **cos},
         losses.LiftedStructureLoss(neg_margin=0.3, pos_margin=0.8, distance=distances.CosineSimilarity()), None, []),
        ("LiftedStructureLoss", {"negativeMargin": 1, "positiveMargin": 0, **MS}, losses.LiftedStructureLoss(), ms(), []),
        ("GeneralizedLiftedStructureLoss", {"negativeMargin": 1, "positiveMargin": 0}, losses.GeneralizedLiftedStructureLoss(), None, []),
        ("GeneralizedLiftedStructureLoss", {"negativeMargin": 0.8, "positiveMargin": 0.2},
         losses.GeneralizedLiftedStructureLoss(neg_margin=0.8, pos_margin=0.2), None, []),
        ("GeneralizedLiftedStructureLoss", {"negativeMargin": 0.3, "positiveMargin": 0.8, **cos},
         losses.GeneralizedLiftedStructureLoss(neg_margin=0.3, pos_margin=0.8, distance=distances.CosineSimilarity()), None, []),
        ("GeneralizedLiftedStructureLoss", {"negativeMargin": 1, "positiveMargin": 0, **MS}, losses.GeneralizedLiftedStructureLoss(), ms(), []),
        ("NPairsLoss", {}, losses.NPairsLoss(), None, []),
        ("NPairsLoss", {"distance": "DotProductSimilarity"},
         losses.NPairsLoss(distance=distances.DotProductSimilarity(normalize_embeddings=False)), None, []),
        ("NPairsLoss", lp, losses.NPairsLoss(distance=distances.LpDistance()), None, []),
        ("NPairsLoss", BH, losses.NPairsLoss(), miners.BatchHardMiner(), []),
        # PML's margin is in degrees; ours in radians.
        ("TupletMarginLoss", {"margin": 0.1, "scale": 64}, losses.TupletMarginLoss(margin=math.degrees(0.1), scale=64), None, ["ties"]),
        ("TupletMarginLoss", {"margin": 0.3, "scale": 16}, losses.TupletMarginLoss(margin=math.degrees(0.3), scale=16), None, ["ties"]),
        ("TupletMarginLoss", {"margin": 0.1, "scale": 64, **MS}, losses.TupletMarginLoss(margin=math.degrees(0.1), scale=64), ms(), ["ties"]),
        ("IntraPairVarianceLoss", {"positiveEpsilon": 0.01, "negativeEpsilon": 0.01}, losses.IntraPairVarianceLoss(), None, []),
        ("IntraPairVarianceLoss", {"positiveEpsilon": 0.1, "negativeEpsilon": 0.05},
         losses.IntraPairVarianceLoss(pos_eps=0.1, neg_eps=0.05), None, []),
        ("IntraPairVarianceLoss", {"positiveEpsilon": 0.1, "negativeEpsilon": 0.05, **lp},
         losses.IntraPairVarianceLoss(pos_eps=0.1, neg_eps=0.05, distance=distances.LpDistance()), None, []),
        ("IntraPairVarianceLoss", {"positiveEpsilon": 0.01, "negativeEpsilon": 0.01, **MS}, losses.IntraPairVarianceLoss(), ms(), []),
        ("SignalToNoiseRatioContrastiveLoss", {"positiveMargin": 0, "negativeMargin": 1}, losses.SignalToNoiseRatioContrastiveLoss(), None, []),
        ("SignalToNoiseRatioContrastiveLoss", {"positiveMargin": 0.2, "negativeMargin": 0.8},
         losses.SignalToNoiseRatioContrastiveLoss(pos_margin=0.2, neg_margin=0.8), None, []),
        ("SignalToNoiseRatioContrastiveLoss", {"positiveMargin": 0.2, "negativeMargin": 0.8, "normalize": 0},
         losses.SignalToNoiseRatioContrastiveLoss(pos_margin=0.2, neg_margin=0.8, distance=distances.SNRDistance(normalize_embeddings=False)), None, []),
        ("SignalToNoiseRatioContrastiveLoss", {"positiveMargin": 0, "negativeMargin": 1, **BH},
         losses.SignalToNoiseRatioContrastiveLoss(), miners.BatchHardMiner(), []),
    ]


def distance_entries(sets):
    """PML's SNR distance, as a matrix and row-wise, with and without normalisation."""
    entries = []
    for set_name, (embeddings, _) in sets.items():
        for normalize in (True, False):
            distance = distances.SNRDistance(normalize_embeddings=normalize)
            half = embeddings.shape[0] // 2
            first, second = embeddings[:half], embeddings[half:2 * half]
            entries.append({"name": "SnrDistance", "settings": {"normalize": int(normalize)}, "input": set_name,
                            "matrix": distance(embeddings).tolist(),
                            "row_wise": distance.pairwise_distance(distance.maybe_normalize(first), distance.maybe_normalize(second)).tolist()})
    return entries


def main():
    sets = common.inputs()
    result = common.header(pml_src, "tests/pml-reference/generate_pairs.py")
    result.update({"inputs": common.inputs_json(sets), "losses": []})
    for name, settings, loss, miner, left_out in loss_cases():
        for set_name, (embeddings, labels) in sets.items():
            if set_name in left_out:
                continue
            entry = common.loss_entry(name, settings, loss, miner, set_name, embeddings, labels)
            if not all(math.isfinite(g) for row in entry["gradient"] for g in row) or not math.isfinite(entry["loss"]):
                raise SystemExit(f"{name} {settings} on {set_name}: PML's value or gradient is not finite")
            result["losses"].append(entry)
    result["distances"] = distance_entries(sets)
    common.write(output, result)
    print(f"wrote {len(result['losses'])} loss cases and {len(result['distances'])} distance cases to {output}")


main()
