#!/usr/bin/env bash
# Retrieval evaluation beside pytorch-metric-learning's AccuracyCalculator, on the same embeddings, A B A B: each round
# runs our side (bench evaluate-ours: it generates the seeded embeddings of many small classes and writes them as .npy)
# and then PML's (bench/pml-evaluate.py: its own source with Debian's torch and FAISS, k="max_bin_count"), each in a
# fresh process, and prints seconds, peak memory, the three metrics of each side, and the ratio of the times.
#
#   bash bench/compare-evaluation.sh --pml PML_SRC [--rounds 3] [--count 60000] [--classes 12000] [--dim 128]
#                                    [--noise 1.0] [--threads 2]
#
# PML_SRC is the src/ folder of pytorch-metric-learning's source at v2.8.1 (for example from `git clone` of its
# repository and `git archive v2.8.1 src | tar -x`). Needs /usr/bin/python3 with python3-torch and python3-faiss
# (apt-get install python3-torch python3-faiss; an optimised BLAS such as libopenblas0-pthread makes FAISS fair).
# Run it with the CPUs otherwise idle and state the CPU (lscpu) with the figures.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=3 count=60000 classes=12000 dim=128 noise=1.0 threads=2 pml=""
while [ $# -gt 0 ]; do
  case "$1" in
    --pml) pml=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --count) count=$2; shift 2 ;;
    --classes) classes=$2; shift 2 ;;
    --dim) dim=$2; shift 2 ;;
    --noise) noise=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
[ -n "$pml" ] && [ -f "$pml/pytorch_metric_learning/utils/accuracy_calculator.py" ] \
  || { echo "compare-evaluation: --pml must name pytorch-metric-learning's src/ folder (it holds pytorch_metric_learning/)" >&2; exit 2; }
/usr/bin/python3 -c 'import torch, faiss, numpy' 2>/dev/null \
  || { echo "compare-evaluation: /usr/bin/python3 cannot import torch, faiss and numpy; apt-get install python3-torch python3-faiss" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dotnet build bench/MetricLearning.Bench -c Release --nologo -v quiet >/dev/null
value() { sed -n "s/^$1=//p" "$2"; }

echo "$count embeddings x $dim-d, $classes classes, queries = references, $threads thread(s) each side; $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
echo "| round | seconds ours | PML | ratio | peak MB ours | PML | precision@1 ours | PML | R-precision ours | PML | MAP@R ours | PML |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for round in $(seq 1 "$rounds"); do
  OMP_NUM_THREADS=$threads dotnet bench/MetricLearning.Bench/bin/Release/net10.0/MetricLearning.Bench.dll evaluate-ours --count "$count" \
    --classes "$classes" --dim "$dim" --noise "$noise" --threads "$threads" --data "$work" > "$work/ours.txt"
  OMP_NUM_THREADS=$threads /usr/bin/python3 bench/pml-evaluate.py "$work" --pml "$pml" --threads "$threads" > "$work/pml.txt"
  os=$(value seconds "$work/ours.txt"); ps=$(value seconds "$work/pml.txt")
  echo "| $round | $os | $ps | $(awk -v a="$os" -v b="$ps" 'BEGIN { printf "%.2f", a / b }') | $(value peak_rss_mb "$work/ours.txt") | $(value peak_rss_mb "$work/pml.txt") | $(value precision_at_1 "$work/ours.txt") | $(value precision_at_1 "$work/pml.txt") | $(value r_precision "$work/ours.txt") | $(value r_precision "$work/pml.txt") | $(value map_at_r "$work/ours.txt") | $(value map_at_r "$work/pml.txt") |"
done
