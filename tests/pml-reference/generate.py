"""Expected values for MetricLearning's losses and miners, computed by pytorch-metric-learning's own code.

Runs PML 2.8.1 (tag v2.8.1, commit 216a792c) from a source checkout with Debian's python3-torch, on fixed float64
inputs, and writes what each loss gives (value and gradient with respect to the embeddings) and what each miner picks,
as one JSON file that the C# tests (tests/MetricLearning.Tests/Core/Losses/PmlReferenceTests.cs) read. PML is not
needed to run the tests, only to regenerate this file:

    /usr/bin/python3 tests/pml-reference/generate.py PML_SRC OUTPUT.json

PML_SRC is the `src` folder of a PML checkout at v2.8.1. Only components with an exact PML twin are here; see the
test for what each one is compared with.
"""
import json
import subprocess
import sys

pml_src, output = sys.argv[1], sys.argv[2]
sys.path.insert(0, pml_src)

import torch  # noqa: E402
import pytorch_metric_learning  # noqa: E402
from pytorch_metric_learning import distances, losses, miners  # noqa: E402

torch.set_default_dtype(torch.float64)


def inputs():
    """The input sets: a general batch, one where a class has a single sample, one of a single class, one with ties."""
    generator = torch.Generator().manual_seed(0)
    general = torch.randn(12, 5, generator=generator)
    singleton = torch.randn(9, 4, generator=generator)
    one_class = torch.randn(6, 4, generator=generator)
    # Unit vectors along the axes, both ways: every pair is at distance sqrt(2) or 2 (ties), none coincide.
    ties = torch.cat([torch.eye(3), -torch.eye(3)])
    return {
        "general": (general, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]),
        "singleton": (singleton, [0, 0, 0, 1, 1, 1, 2, 3, 3]),
        "one-class": (one_class, [0] * 6),
        "ties": (ties, [0, 1, 2, 1, 0, 2]),
    }


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


def miner_cases():
    return [
        ("MultiSimilarityMiner", {"epsilon": 0.1}, miners.MultiSimilarityMiner(epsilon=0.1)),
        ("PairMarginMiner", {"positiveMargin": 0.2, "negativeMargin": 0.8}, miners.PairMarginMiner(pos_margin=0.2, neg_margin=0.8)),
        ("BatchHardMiner", {}, miners.BatchHardMiner()),
    ]


def main():
    sets = inputs()
    result = {
        "generator": "tests/pml-reference/generate.py",
        "pml_version": pytorch_metric_learning.__version__,
        "pml_commit": subprocess.run(["git", "-C", pml_src, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip() or "216a792c22b0154d3d3bf008a7317edc7d677e71",
        "torch_version": torch.__version__,
        "inputs": {name: {"embeddings": e.tolist(), "labels": l} for name, (e, l) in sets.items()},
        "losses": [],
        "miners": [],
    }
    for name, settings, loss, miner in loss_cases():
        for set_name, (embeddings, labels) in sets.items():
            x = embeddings.clone().requires_grad_(True)
            y = torch.tensor(labels)
            indices = miner(x, y) if miner is not None else None
            value = loss(x, y, indices)
            value.backward()
            gradient = x.grad if x.grad is not None else torch.zeros_like(x)
            result["losses"].append({"name": name, "settings": settings, "input": set_name,
                                     "loss": value.item(), "gradient": gradient.tolist()})
    for name, settings, miner in miner_cases():
        for set_name, (embeddings, labels) in sets.items():
            mined = [t.tolist() for t in miner(embeddings, torch.tensor(labels))]
            entry = {"name": name, "settings": settings, "input": set_name}
            if len(mined) == 4:
                entry.update({"positive_anchors": mined[0], "positives": mined[1], "negative_anchors": mined[2], "negatives": mined[3]})
            else:
                entry.update({"anchors": mined[0], "positives": mined[1], "negatives": mined[2]})
            result["miners"].append(entry)
    with open(output, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(f"wrote {len(result['losses'])} loss cases and {len(result['miners'])} miner cases to {output}")


main()
