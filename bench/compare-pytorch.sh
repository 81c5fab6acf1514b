#!/usr/bin/env bash
# Side-by-side speed of MetricLearning and the PyTorch reference on the reference
# experiment (../shared/bench/pytorch-reference), on this machine, in one run:
# for each thread setting, A B A B (ours, PyTorch, ours, PyTorch), each run timing
# several epochs; the figure of a run is the median training-pass seconds per
# epoch without the first (warm-up) epoch. Prints each pair's ratio ours/PyTorch
# and the medians. Installs the reference's Debian packages if they are missing.
#
#   bench/compare-pytorch.sh [--epochs N] [--rounds R] [--threads "1 2"]
#
# Run it with the CPUs otherwise idle: on two cores anything else running skews
# both sides, the two-thread settings most.
set -euo pipefail

epochs=4
rounds=2
thread_settings="1 2"
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --threads) thread_settings=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
reference=$(cd "$root/../shared/bench/pytorch-reference" 2>/dev/null && pwd) || {
  echo "error: ../shared/bench/pytorch-reference not found beside the repository" >&2; exit 1; }
data=${METRICLEARNING_MNIST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/metriclearning/mnist}

# PyTorch from Debian, with OpenBLAS (without libopenblas0 torch falls back to the reference BLAS, ~10x slower).
missing=""
for package in python3-torch python3-numpy libopenblas0; do
  dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

dotnet build "$root/bench/MetricLearning.Bench/MetricLearning.Bench.csproj" -c Release --nologo -v quiet >/dev/null
bench="$root/bench/MetricLearning.Bench/bin/Release/net10.0/MetricLearning.Bench.dll"

median() { python3 -c 'import sys, statistics; print("%.3f" % statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }

ours_run() {  # prints the median seconds per epoch of one run of ours
  local out
  out=$(dotnet "$bench" train --threads "$1" --epochs "$epochs" --data "$data")
  echo "$out" | grep '^BENCH' >&2
  echo "$out" | grep -o 'sec_per_epoch=[0-9.]*' | cut -d= -f2
}

pytorch_run() {  # prints the median seconds per epoch (first epoch left out) of one run of the reference
  local out
  out=$(/usr/bin/python3 "$reference/siamese_mnist_torch.py" --data "$data" --epochs "$epochs" --threads "$1")
  echo "$out" | grep -E '^(blas|RESULT)' | sed 's/^/PYTORCH /' >&2
  median $(echo "$out" | awk '$1 == "epoch" && $2 > 1 { print $4 }')
}

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%Y-%m-%d)"
echo "epochs per run: $epochs (first left out), rounds: $rounds, order A B A B"
summary=""
best_ours="" best_theirs=""
for threads in $thread_settings; do
  ours=() theirs=() ratios=()
  for round in $(seq "$rounds"); do
    a=$(ours_run "$threads")
    b=$(pytorch_run "$threads")
    r=$(python3 -c "print('%.2f' % ($a / $b))")
    ours+=("$a") theirs+=("$b") ratios+=("$r")
    echo "threads=$threads round=$round  ours ${a}s  pytorch ${b}s  ratio $r"
  done
  mo=$(median "${ours[@]}") mt=$(median "${theirs[@]}")
  summary+="| $threads | $mo | $mt | $(median "${ratios[@]}") |"$'\n'
  best_ours=$(python3 -c "print(min(x for x in [$mo, ${best_ours:-1e9}]))")
  best_theirs=$(python3 -c "print(min(x for x in [$mt, ${best_theirs:-1e9}]))")
done

echo
echo "| threads | MetricLearning s/epoch (median) | PyTorch s/epoch (median) | ratio ours/PyTorch (median) |"
echo "|---|---|---|---|"
printf '%s' "$summary"
echo
echo "best setting each: MetricLearning ${best_ours}s, PyTorch ${best_theirs}s, ratio $(python3 -c "print('%.2f' % ($best_ours / $best_theirs))")"
