"""pytorch-metric-learning's losses timed on the batch `dotnet bench loss-steps` times ours on.

    /usr/bin/python3 bench/pml-loss-steps.py PML_SRC [--threads 2] [--steps 30] [--losses "a b"]

PML_SRC is the `src` folder of a PML 2.8.1 checkout; Debian's python3-torch runs it. Each catalogue name is built
with PML's class and the settings our catalogue uses (LossCatalogue), the forward pass and the backward pass to the
embeddings (and the loss's own weights) are timed, no miner, and the median of the timed steps is printed in the
format of ours: "loss NAME ms=...". Names without a PML twin (contrastive: Hadsell's squared form) are skipped.
"""
import argparse
import math
import statistics
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("pml_src")
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--steps", type=int, default=30)
parser.add_argument("--batch", type=int, default=320)
parser.add_argument("--width", type=int, default=128)
parser.add_argument("--classes", type=int, default=10)
parser.add_argument("--losses", default="")
args = parser.parse_args()
sys.path.insert(0, args.pml_src)

import torch  # noqa: E402
from pytorch_metric_learning import distances, losses  # noqa: E402

torch.set_num_threads(args.threads)
B, D, C = args.batch, args.width, args.classes
DEGREES = 180 / math.pi


def inputs():
    """The formula the C# benchmark uses (LossStepBenchmark.Inputs): float64, then float32."""
    i = torch.arange(B, dtype=torch.float64).unsqueeze(1)
    j = torch.arange(D, dtype=torch.float64).unsqueeze(0)
    labels = torch.arange(B) % C
    x = torch.sin(0.37 * i + 1.3 * j) + 0.5 * torch.cos(0.11 * (labels.unsqueeze(1).double() + 1) * j)
    return x.float(), labels


LOSSES = {
    "multi-similarity": lambda: losses.MultiSimilarityLoss(alpha=2, beta=50, base=0.5),
    "triplet": lambda: losses.TripletMarginLoss(margin=0.2),
    "margin-contrastive": lambda: losses.ContrastiveLoss(),
    "supcon": lambda: losses.SupConLoss(temperature=0.1),
    "ntxent": lambda: losses.NTXentLoss(temperature=0.07),
    "circle": lambda: losses.CircleLoss(),
    "lifted-structure": lambda: losses.LiftedStructureLoss(),
    "generalized-lifted-structure": lambda: losses.GeneralizedLiftedStructureLoss(),
    "n-pairs": lambda: losses.NPairsLoss(),
    "tuplet-margin": lambda: losses.TupletMarginLoss(margin=0.1 * DEGREES),
    "intra-pair-variance": lambda: losses.IntraPairVarianceLoss(),
    "tuplet-margin+intra-pair-variance": lambda: losses.MultipleLosses(
        [losses.TupletMarginLoss(margin=0.1 * DEGREES), losses.IntraPairVarianceLoss()], weights=[1, 0.5]),
    "snr-contrastive": lambda: losses.SignalToNoiseRatioContrastiveLoss(),
    "margin": lambda: losses.MarginLoss(),
    "fastap": lambda: losses.FastAPLoss(),
    "histogram": lambda: losses.HistogramLoss(),
    "proxy-anchor": lambda: losses.ProxyAnchorLoss(num_classes=C, embedding_size=D, margin=0.1, alpha=32),
    "proxy-nca": lambda: losses.ProxyNCALoss(num_classes=C, embedding_size=D),
    "arcface": lambda: losses.ArcFaceLoss(num_classes=C, embedding_size=D, margin=0.5 * DEGREES, scale=64),
    "subcenter-arcface": lambda: losses.SubCenterArcFaceLoss(num_classes=C, embedding_size=D, margin=0.5 * DEGREES, scale=64),
    "cosface": lambda: losses.CosFaceLoss(num_classes=C, embedding_size=D),
    "normalized-softmax": lambda: losses.NormalizedSoftmaxLoss(num_classes=C, embedding_size=D),
    "soft-triple": lambda: losses.SoftTripleLoss(num_classes=C, embedding_size=D),
    "xbm": lambda: losses.CrossBatchMemory(losses.ContrastiveLoss(pos_margin=1, neg_margin=0.5, distance=distances.CosineSimilarity()),
                                           embedding_size=D, memory_size=2048),
}

BUDGET_MS = 20_000

x0, labels = inputs()
print(f"PML loss steps: batch {B} x {D}, {C} classes, {args.threads} threads, up to {args.steps} timed steps (at least 3, at most {BUDGET_MS // 1000} s) after 10 warm-up steps (2 when one takes over a second), "
      f"no miner; torch {torch.__version__}")
names = args.losses.split() if args.losses else list(LOSSES)
for name in names:
    if name not in LOSSES:
        continue
    torch.manual_seed(1)
    loss = LOSSES[name]()
    times = []
    warm_up = 10
    step = -warm_up
    # A loss whose steps take seconds (PML's NTXent builds a positives x negatives mask) gets 2 warm-up steps and
    # stops timing after BUDGET_MS of timed steps (at least 3), so one loss cannot hold the table for many minutes.
    while step < args.steps:
        start = time.perf_counter()
        x = x0.detach().requires_grad_(True)
        value = loss(x, labels)
        value.backward()
        x.grad.sum().item()
        loss.zero_grad()
        elapsed = (time.perf_counter() - start) * 1000
        if step >= 0:
            times.append(elapsed)
            if len(times) >= 3 and sum(times) > BUDGET_MS:
                break
        elif elapsed > 1000:
            step = max(step, -2)
        step += 1
    print(f"loss {name} ms={statistics.median(times):.3f}")
