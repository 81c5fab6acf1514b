#!/usr/bin/env bash
# Each loss's training step (forward and backward, no miner) beside pytorch-metric-learning 2.8.1's on the same batch
# (320 x 128, 10 classes, float32, 2 threads), in turns (ours, PML, ours, PML); prints the table of medians and the
# ratio ours / PML, and the median ratio over the losses added since the catalogue issue (all but multi-similarity,
# triplet, supcon, proxy-anchor and arcface).
#
#   bash bench/compare-loss-steps.sh PML_SRC [--rounds R] [--write]
#
# PML_SRC is the src folder of a PML v2.8.1 checkout (fetch github:KevinMusgrave/pytorch-metric-learning, then
# git archive v2.8.1 src | tar -x); Debian's python3-torch runs it. --write replaces the block between
# <!-- figures:loss-steps --> and <!-- /figures:loss-steps --> of docs/losses.md. Run with the CPUs otherwise idle.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ $# -ge 1 ] || { sed -n '2,11p' "$0"; exit 2; }
pml=$1; shift
rounds=2
write=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --write) write=1; shift ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
dotnet build bench/MetricLearning.Bench -c Release --nologo -v quiet >/dev/null
bench=bench/MetricLearning.Bench/bin/Release/net10.0/MetricLearning.Bench.dll
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
for round in $(seq "$rounds"); do
  dotnet "$bench" loss-steps --threads 2 | tee -a "$log/ours" >&2
  /usr/bin/python3 bench/pml-loss-steps.py "$pml" --threads 2 | tee -a "$log/pml" >&2
done
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
# best NAME FILE: the smallest median over the rounds (the least disturbed).
best() { sed -n "s/^loss $1 ms=\([0-9.]*\)/\1/p" "$2" | sort -g | head -n 1; }
{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores of $cpu, 2 threads each side, CPUs otherwise idle, commit $(git rev-parse --short HEAD), by \`bash bench/compare-loss-steps.sh PML_SRC\`: one batch of 320 x 128 float32 embeddings in 10 classes, the loss's forward and backward pass (no miner), median of 30 steps after 10 of warm-up (on PML's side, a loss whose steps take over a second gets 2 of warm-up and stops after 20 s of timed steps, at least 3), the better of $rounds rounds; PML 2.8.1 on Debian's torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')."
  echo
  echo "| loss | ours (ms) | PML (ms) | ours / PML |"
  echo "|---|---|---|---|"
  for name in $(sed -n 's/^loss \([^ ]*\) ms=.*/\1/p' "$log/ours" | awk '!seen[$0]++'); do
    o=$(best "$name" "$log/ours"); p=$(best "$name" "$log/pml")
    if [ -z "$p" ]; then echo "| \`$name\` | $o | (no PML twin) | |"; continue; fi
    r=$(awk -v o="$o" -v p="$p" 'BEGIN { printf "%.2f", o / p }')
    echo "| \`$name\` | $o | $p | $r |"
    case "$name" in multi-similarity|triplet|supcon|proxy-anchor|arcface) ;; *) echo "$r" >> "$log/ratios" ;; esac
  done
  echo
  echo "Median ratio over the $(wc -l < "$log/ratios") losses added by the catalogue: $(sort -g "$log/ratios" | awk '{ a[NR] = $1 } END { printf "%.2f", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')."
} > "$log/table.md"
cat "$log/table.md"
if [ "$write" -eq 1 ]; then
  doc=docs/losses.md
  grep -q '<!-- figures:loss-steps -->' "$doc" || { echo "$doc has no <!-- figures:loss-steps --> block" >&2; exit 1; }
  awk -v table="$log/table.md" '
    /<!-- figures:loss-steps -->/ { print; while ((getline line < table) > 0) print line; skip = 1; next }
    /<!-- \/figures:loss-steps -->/ { skip = 0 }
    !skip { print }' "$doc" > "$log/doc.md"
  mv "$log/doc.md" "$doc"
  echo "wrote the table into $doc" >&2
fi
