"""What every generator of PML reference values shares: loading PML from its source, the fixed input sets, running a
loss (value and gradients) or a miner (what it picks) on them, and writing the JSON file the C# tests read.

A generator script imports this after putting this folder on sys.path, calls setup(PML_SRC), builds its cases, and
writes them with write(OUTPUT, result). See generate.py.
"""
import json
import subprocess
import sys

torch = None


def setup(pml_src):
    """Puts PML's source first on the import path, imports torch in float64, and returns PML's package."""
    global torch
    sys.path.insert(0, pml_src)
    import torch as _torch
    import pytorch_metric_learning
    torch = _torch
    torch.set_default_dtype(torch.float64)
    return pytorch_metric_learning


def header(pml_src, generator):
    import pytorch_metric_learning
    return {
        "generator": generator,
        "pml_version": pytorch_metric_learning.__version__,
        "pml_commit": subprocess.run(["git", "-C", pml_src, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip() or "216a792c22b0154d3d3bf008a7317edc7d677e71",
        "torch_version": torch.__version__,
    }


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


def inputs_json(sets):
    return {name: {"embeddings": e.tolist(), "labels": l} for name, (e, l) in sets.items()}


def loss_entry(name, settings, loss, miner, set_name, embeddings, labels):
    """The loss's value and its gradient with respect to the embeddings (zeros when the loss does not depend on them)."""
    x = embeddings.clone().requires_grad_(True)
    y = torch.tensor(labels)
    indices = miner(x, y) if miner is not None else None
    value = loss(x, y, indices)
    if value.requires_grad:
        value.backward()
    gradient = x.grad if x.grad is not None else torch.zeros_like(x)
    return {"name": name, "settings": settings, "input": set_name, "loss": value.item(), "gradient": gradient.tolist()}


def weighted_entry(name, settings, loss, weights, set_name, embeddings, labels, classes, transposed=False, rows=None):
    """A loss with weights of its own: the weights PML drew (one row per class, or per row of `rows` when given), the
    value, and the gradients with respect to the embeddings and to the weights."""
    x = embeddings.clone().requires_grad_(True)
    value = loss(x, torch.tensor(labels))
    value.backward()
    drawn = weights.detach().t() if transposed else weights.detach()
    weights_gradient = weights.grad.t() if transposed else weights.grad
    return {"name": name, "settings": settings, "input": set_name, "classes": classes,
            "weights": drawn.tolist(), "loss": value.item(),
            "gradient": x.grad.tolist(), "weights_gradient": weights_gradient.tolist()}


def miner_entry(name, settings, miner, set_name, embeddings, labels):
    mined = [t.tolist() for t in miner(embeddings, torch.tensor(labels))]
    entry = {"name": name, "settings": settings, "input": set_name}
    if len(mined) == 4:
        entry.update({"positive_anchors": mined[0], "positives": mined[1], "negative_anchors": mined[2], "negatives": mined[3]})
    else:
        entry.update({"anchors": mined[0], "positives": mined[1], "negatives": mined[2]})
    return entry


def write(output, result):
    with open(output, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
