"""Checks with NumPy that shard folders written by BatchEmbed hold, together, what one-shard output holds.

Usage: python3 compare_shards.py ONE_SHARD_FOLDER SHARD_FOLDER...
Exits 0 when keys and labels are identical and embeddings identical (or, where a BLAS picks kernels by memory
alignment, within 1e-6), printing what it compared; 1 otherwise.
"""
import pathlib
import sys

import numpy as np


def main(whole, parts):
    ok = True
    for name in ("embeddings", "keys", "labels"):
        if not (whole / f"{name}.npy").exists():
            continue
        a = np.load(whole / f"{name}.npy")
        b = np.concatenate([np.load(p / f"{name}.npy") for p in parts])
        if a.shape != b.shape or a.dtype != b.dtype:
            print(f"{name}: one shard {a.shape} {a.dtype}, shards together {b.shape} {b.dtype}")
            ok = False
        elif np.array_equal(a, b):
            print(f"{name}: {a.shape} {a.dtype}, identical")
        else:
            difference = float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max())
            close = name == "embeddings" and difference <= 1e-6
            print(f"{name}: {a.shape} {a.dtype}, largest difference {difference:.3g}" + (" (within 1e-6)" if close else ""))
            ok = ok and close
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(main(pathlib.Path(sys.argv[1]), [pathlib.Path(p) for p in sys.argv[2:]]))
