"""Expected values for MetricLearning's MarginLoss, FastApLoss, HistogramLoss, CrossBatchMemory and MultipleLosses,
computed by pytorch-metric-learning 2.8.1's own code (MarginLoss, FastAPLoss, HistogramLoss, CrossBatchMemory,
MultipleLosses), in float64, read by tests/MetricLearning.Tests/Core/Losses/PmlSpecialReferenceTests.cs. Regenerate with:

    /usr/bin/python3 tests/pml-reference/generate_special.py /tmp/pml/src tests/MetricLearning.Tests/Core/Losses/Fixtures/pml-2.8.1-special.json

Sections: "losses" (value and gradient with respect to the embeddings, on the four input sets of pml_common),
"beta_losses" (MarginLoss with a learnt beta, set to known values: also the gradient with respect to beta), and
"memory" (CrossBatchMemory over a sequence of batches, its queue carried over: each batch's value and gradient).
"""
import os
import sys

pml_src, output = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pml_common as common  # noqa: E402

pytorch_metric_learning = common.setup(pml_src)
import torch  # noqa: E402
from pytorch_metric_learning import distances, losses, miners  # noqa: E402


def loss_cases(classes):
    """(our class name, its settings as the C# test passes them, the PML loss, the PML miner or None)."""
    return [
        ("MarginLoss", {"margin": 0.2, "beta": 1.2}, losses.MarginLoss(), None),
        ("MarginLoss", {"margin": 0.1, "beta": 0.9, "nu": 0.3}, losses.MarginLoss(margin=0.1, beta=0.9, nu=0.3), None),
        # A fixed per-class beta is the same beta for every class.
        ("MarginLoss", {"margin": 0.2, "beta": 1.1, "classes": classes}, losses.MarginLoss(beta=1.1, num_classes=classes), None),
        ("MarginLoss", {"margin": 0.1, "beta": 0.3, "distance": "CosineSimilarity"},
         losses.MarginLoss(margin=0.1, beta=0.3, distance=distances.CosineSimilarity()), None),
        ("MarginLoss", {"margin": 0.2, "beta": 1.2, "miner": "MultiSimilarityMiner"}, losses.MarginLoss(), miners.MultiSimilarityMiner()),
        # Mined triplets (every triplet within the margin): the loss reads each triplet's two distances.
        ("MarginLoss", {"margin": 0.2, "beta": 1.2, "miner": "TripletMarginMiner"}, losses.MarginLoss(), miners.TripletMarginMiner(margin=0.2)),
        ("FastApLoss", {"bins": 10}, losses.FastAPLoss(), None),
        ("FastApLoss", {"bins": 4}, losses.FastAPLoss(num_bins=4), None),
        # Mined indices weight the anchors.
        ("FastApLoss", {"bins": 10, "miner": "MultiSimilarityMiner"}, losses.FastAPLoss(), miners.MultiSimilarityMiner()),
        ("HistogramLoss", {"bins": 100}, losses.HistogramLoss(), None),
        ("HistogramLoss", {"bins": 8}, losses.HistogramLoss(n_bins=8), None),
        ("HistogramLoss", {"bins": 100, "miner": "MultiSimilarityMiner"}, losses.HistogramLoss(), miners.MultiSimilarityMiner()),
        ("MultipleLosses", {"weights": [0.7, 1.5]},
         losses.MultipleLosses([losses.ContrastiveLoss(pos_margin=0.2, neg_margin=0.8), losses.MultiSimilarityLoss()], weights=[0.7, 1.5]), None),
        ("MultipleLosses", {"weights": [1, 1], "miners": True},
         losses.MultipleLosses([losses.ContrastiveLoss(pos_margin=0.2, neg_margin=0.8), losses.MultiSimilarityLoss()],
                               miners=[None, miners.MultiSimilarityMiner()]), None),
    ]


def beta_cases(classes):
    """MarginLoss with a learnt beta: one for all, and one per class (set to distinct values so the indexing shows)."""
    return [
        ("MarginLoss", {"margin": 0.2, "beta": 1.2, "nu": 0.1, "learnBeta": True}, losses.MarginLoss(nu=0.1, learn_beta=True), [0.9]),
        ("MarginLoss", {"margin": 0.2, "beta": 1.2, "nu": 0.1, "learnBeta": True, "classes": classes},
         losses.MarginLoss(nu=0.1, learn_beta=True, num_classes=classes), [0.8 + 0.15 * k for k in range(classes)]),
        ("MarginLoss", {"margin": 0.1, "beta": 0.5, "nu": 0.2, "learnBeta": True, "classes": classes, "distance": "CosineSimilarity"},
         losses.MarginLoss(margin=0.1, beta=0.5, nu=0.2, learn_beta=True, num_classes=classes, distance=distances.CosineSimilarity()),
         [0.2 + 0.1 * k for k in range(classes)]),
    ]


def beta_entry(name, settings, loss, beta, set_name, embeddings, labels):
    with torch.no_grad():
        loss.beta.copy_(torch.tensor(beta))
    x = embeddings.clone().requires_grad_(True)
    value = loss(x, torch.tensor(labels))
    if value.requires_grad:
        value.backward()
    # Without triplets (one class) PML's loss is a constant 0: no gradient at all.
    gradient = x.grad if x.grad is not None else torch.zeros_like(x)
    beta_gradient = loss.beta.grad if loss.beta.grad is not None else torch.zeros_like(loss.beta)
    return {"name": name, "settings": settings, "input": set_name, "beta": beta, "loss": value.item(),
            "gradient": gradient.tolist(), "beta_gradient": beta_gradient.tolist()}


def memory_batches():
    """Four batches of six 4-wide embeddings of three classes (a class may be missing from a batch)."""
    generator = torch.Generator().manual_seed(3)
    labels = [[0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0], [2, 2, 0, 1, 0, 2], [1, 1, 0, 0, 1, 1]]
    return [(torch.randn(6, 4, generator=generator), l) for l in labels]


def memory_cases():
    """(the wrapped loss's name and settings, the memory size, the PML loss, the PML miner or None)."""
    return [
        ({"loss": "MarginContrastiveLoss", "positiveMargin": 0, "negativeMargin": 1, "memorySize": 16}, losses.ContrastiveLoss(), None),
        ({"loss": "MarginContrastiveLoss", "positiveMargin": 0.2, "negativeMargin": 0.8, "memorySize": 10, "miner": "PairMarginMiner"},
         losses.ContrastiveLoss(pos_margin=0.2, neg_margin=0.8), miners.PairMarginMiner(pos_margin=0.2, neg_margin=0.8)),
        ({"loss": "MultiSimilarityLoss", "memorySize": 16}, losses.MultiSimilarityLoss(), None),
        ({"loss": "MultiSimilarityLoss", "memorySize": 12, "miner": "MultiSimilarityMiner"}, losses.MultiSimilarityLoss(), miners.MultiSimilarityMiner()),
    ]


def memory_entry(settings, loss, miner, batches):
    memory = losses.CrossBatchMemory(loss, embedding_size=4, memory_size=settings["memorySize"], miner=miner)
    steps = []
    for embeddings, labels in batches:
        x = embeddings.clone().requires_grad_(True)
        value = memory(x, torch.tensor(labels))
        value.backward()
        steps.append({"embeddings": embeddings.tolist(), "labels": labels, "loss": value.item(), "gradient": x.grad.tolist(),
                      "position": memory.queue_idx, "full": memory.has_been_filled})
    return {"name": "CrossBatchMemory", "settings": settings, "input": "four batches", "steps": steps}


def main():
    sets = common.inputs()
    result = common.header(pml_src, "tests/pml-reference/generate_special.py")
    result.update({"inputs": common.inputs_json(sets), "losses": [], "beta_losses": [], "memory": []})
    for set_name, (embeddings, labels) in sets.items():
        classes = max(labels) + 1
        for name, settings, loss, miner in loss_cases(classes):
            result["losses"].append(common.loss_entry(name, settings, loss, miner, set_name, embeddings, labels))
        for name, settings, loss, beta in beta_cases(classes):
            result["beta_losses"].append(beta_entry(name, settings, loss, beta, set_name, embeddings, labels))
    batches = memory_batches()
    for settings, loss, miner in memory_cases():
        result["memory"].append(memory_entry(settings, loss, miner, batches))
    common.write(output, result)
    print(f"wrote {len(result['losses'])} loss cases, {len(result['beta_losses'])} with a learnt beta and {len(result['memory'])} memory sequences to {output}")


main()
