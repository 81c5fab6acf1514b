#!/usr/bin/env python3
"""FAISS's side of bench/compare-faiss.sh (Debian's python3-faiss): on the vectors and queries our side wrote as .npy,
exact search (IndexFlatIP on L2-normalised rows: cosine) of all queries in one call (the median of five after a
warm-up), and optionally HNSW
(IndexHNSWFlat, M=16, efConstruction=128, efSearch=64, inner product on normalised rows): build, then all queries
in one call. Prints key=value lines, and how often its exact top 10 equals ours (ours-exact.npy).

    /usr/bin/python3 bench/faiss-search.py DIR [--threads 2] [--hnsw]
"""
import argparse
import time

import faiss
import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--hnsw", action="store_true")
    args = parser.parse_args()
    faiss.omp_set_num_threads(args.threads)
    vectors = np.load(f"{args.folder}/vectors.npy").astype(np.float32)
    queries = np.load(f"{args.folder}/queries.npy").astype(np.float32)
    faiss.normalize_L2(vectors)
    faiss.normalize_L2(queries)
    k = 10

    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    flat.search(queries, k)  # warm-up, as our side does
    times = []
    for _ in range(5):  # the median of five, as our side does
        start = time.perf_counter()
        _, exact = flat.search(queries, k)
        times.append(time.perf_counter() - start)
    seconds = sorted(times)[len(times) // 2]
    print(f"exact_ms_per_query={1000 * seconds / len(queries):.4f}")
    print(f"exact_gflops={2.0 * vectors.shape[0] * len(queries) * vectors.shape[1] / seconds / 1e9:.1f}")
    ours = np.load(f"{args.folder}/ours-exact.npy")
    same = np.mean([set(a) == set(b) for a, b in zip(exact.tolist(), ours.tolist())])
    print(f"exact_same_top10_as_ours={same:.4f}")

    if not args.hnsw:
        return
    start = time.perf_counter()
    graph = faiss.IndexHNSWFlat(vectors.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = 128
    graph.add(vectors)
    print(f"hnsw_build_s={time.perf_counter() - start:.2f}")
    graph.hnsw.efSearch = 64
    start = time.perf_counter()
    _, found = graph.search(queries, k)
    print(f"hnsw_ms_per_query={1000 * (time.perf_counter() - start) / len(queries):.4f}")
    recall = np.mean([len(set(a) & set(b)) / k for a, b in zip(found.tolist(), exact.tolist())])
    print(f"hnsw_recall={recall:.4f}")


if __name__ == "__main__":
    main()
