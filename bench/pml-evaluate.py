#!/usr/bin/env python3
"""pytorch-metric-learning's side of bench/compare-evaluation.sh: its AccuracyCalculator (precision@1, R-precision,
MAP@R; k="max_bin_count"; its default FAISS k-NN) on the embeddings and labels our side wrote as .npy, the queries
being the references. Runs PML's own source (--pml: its src folder) with Debian's torch and FAISS. Prints key=value
lines: seconds, peak RSS, the three metrics.

    /usr/bin/python3 bench/pml-evaluate.py DIR --pml PML_SRC [--threads 2]
"""
import argparse
import resource
import sys
import time

import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--pml", required=True)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, args.pml)
    import faiss
    import torch
    from pytorch_metric_learning.utils.accuracy_calculator import AccuracyCalculator

    torch.set_num_threads(args.threads)
    faiss.omp_set_num_threads(args.threads)
    embeddings = torch.from_numpy(np.load(f"{args.folder}/embeddings.npy"))
    labels = torch.from_numpy(np.load(f"{args.folder}/labels.npy"))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    calculator = AccuracyCalculator(
        include=("precision_at_1", "r_precision", "mean_average_precision_at_r"),
        k="max_bin_count",
        device=torch.device("cpu"),
    )
    start = time.perf_counter()
    result = calculator.get_accuracy(embeddings, labels, embeddings, labels, ref_includes_query=True)
    seconds = time.perf_counter() - start
    print(f"seconds={seconds:.2f}")
    print(f"peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
    print(f"peak_rss_before_evaluation_mb={before:.0f}")
    print(f"precision_at_1={result['precision_at_1']:.6f}")
    print(f"r_precision={result['r_precision']:.6f}")
    print(f"map_at_r={result['mean_average_precision_at_r']:.6f}")


if __name__ == "__main__":
    main()
