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
    result["weighted_losses"] = []
    for set_name, (embeddings, labels) in sets.items():
        classes = max(2, max(labels) + 1)
        for name, settings, loss, attribute, transposed in weighted_cases(classes, embeddings.shape[1]):
            weights = getattr(loss, attribute)
            x = embeddings.clone().requires_grad_(True)
            value = loss(x, torch.tensor(labels))
            value.backward()
            # Ours holds one row per class; PML's ArcFace holds one column per class.
            rows = weights.detach().t() if transposed else weights.detach()
            weights_gradient = weights.grad.t() if transposed else weights.grad
            result["weighted_losses"].append({"name": name, "settings": settings, "input": set_name, "classes": classes,
                                              "weights": rows.tolist(), "loss": value.item(),
                                              "gradient": x.grad.tolist(), "weights_gradient": weights_gradient.tolist()})
    # Embeddings pointing away from their own class's centre, so that angle + margin passes 180 degrees, where
    # ArcFace replaces cos(angle + margin) by cos(angle) - margin * sin(margin).
    generator = torch.Generator().manual_seed(2)
    for name, settings, loss, attribute, transposed in weighted_cases(3, 4):
        if name != "ArcFaceLoss":
            continue
        labels = [0, 1, 2, 0, 1, 2]
        centres = loss.W.detach().t()
        embeddings = -centres[labels] + 0.05 * torch.randn(6, 4, generator=generator)
        x = embeddings.clone().requires_grad_(True)
        value = loss(x, torch.tensor(labels))
        value.backward()
        result["weighted_losses"].append({"name": name, "settings": settings, "input": "opposite", "classes": 3,
                                          "embeddings": embeddings.tolist(), "labels": labels,
                                          "weights": centres.tolist(), "loss": value.item(),
                                          "gradient": x.grad.tolist(), "weights_gradient": loss.W.grad.t().tolist()})
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
    print(f"wrote {len(result['losses'])} loss cases, {len(result['weighted_losses'])} with weights of their own and {len(result['miners'])} miner cases to {output}")


main()
