#!/usr/bin/env bash
# Side-by-side: MetricLearning's RetrievalMnist sample and the PyTorch retrieval yardstick
# (../shared/bench/pytorch-reference/retrieval_torch.py --net mlp) on MNIST: the 784-128-128-128 MLP, the
# multi-similarity loss and miner, 32 images of each of 10 classes per batch, Adam 1e-3 with cosine annealing.
# Order A B A B at the same thread count; prints each run's train seconds per epoch (mean over the epochs, as both
# print it), precision@1, and each pair's ratio ours/PyTorch. Installs PyTorch from python3-torch if it is missing.
# PyTorch uses OpenBLAS's SKYLAKEX kernel unless OPENBLAS_CORETYPE says otherwise (see the reference's README).
#
#   bench/compare-retrieval.sh [--epochs N] [--rounds R] [--threads T]
#
# Run it with the CPUs otherwise idle.
set -euo pipefail

epochs=4
rounds=2
threads=2
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
reference=$(cd "$root/../shared/bench/pytorch-reference" 2>/dev/null && pwd) || {
  echo "error: ../shared/bench/pytorch-reference not found beside the repository" >&2; exit 1; }
data=${METRICLEARNING_MNIST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/metriclearning/mnist}

missing=""
for package in python3-torch python3-numpy libopenblas0; do
  dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

dotnet build "$root/samples/RetrievalMnist/RetrievalMnist.csproj" -c Release --nologo -v quiet >/dev/null
sample="$root/samples/RetrievalMnist/bin/Release/net10.0/RetrievalMnist.dll"

ours_run() {  # prints "seconds precision" of one run of ours (it also fetches MNIST into $data the first time)
  local out
  out=$(dotnet "$sample" --epochs "$epochs" --threads "$threads" --data "$data" | grep '^RESULT epochs')
  echo "OURS $out" >&2
  echo "$(echo "$out" | grep -o 'sec_per_epoch=[0-9.]*' | cut -d= -f2) $(echo "$out" | grep -o 'precision_at_1=[0-9.]*' | cut -d= -f2)"
}

pytorch_run() {  # prints "seconds precision" of one run of the yardstick
  local out
  out=$(OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SKYLAKEX} /usr/bin/python3 "$reference/retrieval_torch.py" --data "$data" --net mlp \
    --epochs "$epochs" --threads "$threads")
  echo "$out" | grep '^RESULT' | sed 's/^/PYTORCH /' >&2
  echo "$(echo "$out" | awk '$1 == "epoch" { total += $6; n++ } END { printf "%.2f", total / n }') $(echo "$out" | grep -o 'precision_at_1=[0-9.]*' | cut -d= -f2)"
}

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%Y-%m-%d); $threads thread(s), $epochs epochs, order A B A B"
echo "| round | ours s/epoch | ours precision@1 | PyTorch s/epoch | PyTorch precision@1 | ratio |"
echo "|---|---|---|---|---|---|"
ratios=""
for round in $(seq "$rounds"); do
  read -r a ap < <(ours_run)
  read -r b bp < <(pytorch_run)
  ratio=$(python3 -c "print('%.2f' % ($a / $b))")
  ratios="$ratios $ratio"
  echo "| $round | $a | $ap | $b | $bp | $ratio |"
done
echo "median ratio: $(python3 -c 'import sys, statistics; print("%.2f" % statistics.median(float(x) for x in sys.argv[1:]))' $ratios)"
