#!/usr/bin/env bash
# The loss zoo: every loss of the catalogue (with the miner its paper uses, where one does) trains the 784-128-128-128
# MLP on Fashion-MNIST with the same batches (M = 32 per class, 320 a batch), optimizer (Adam, 1e-3, cosine schedule)
# and epochs, for three seeds; the table gives the mean and standard deviation of precision@1, MAP@R and NMI (k-means
# of the test embeddings) over the seeds, and seconds per epoch, beside the untrained network.
#
#   bash bench/loss-zoo.sh [--epochs N] [--seeds "1 2 3"] [--losses "a b"] [--write]
#
# --write replaces the block between <!-- figures:zoo --> and <!-- /figures:zoo --> of docs/losses.md with the
# table. About 40 minutes on 2 cores; run it with the CPUs otherwise idle (the seconds per epoch depend on it, the
# accuracies do not). Fashion-MNIST comes from Debian's dataset-fashion-mnist package.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
epochs=10
seeds="1 2 3"
losses=""
write=0
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --losses) losses=$2; shift 2 ;;
    --write) write=1; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

work=${METRICLEARNING_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/metriclearning}
fashion="$work/fashion-mnist"
idx="$fashion/idx/usr/share/datasets/fashion-mnist"
if [ ! -f "$idx/train-images-idx3-ubyte.gz" ]; then
  mkdir -p "$fashion/idx"
  (cd "$fashion" && rm -f dataset-fashion-mnist_*.deb && apt-get download dataset-fashion-mnist >/dev/null && dpkg -x dataset-fashion-mnist_*.deb "$fashion/idx")
fi
dotnet build samples/RetrievalMnist -c Release --nologo -v quiet >/dev/null
sample=samples/RetrievalMnist/bin/Release/net10.0/RetrievalMnist.dll
[ -n "$losses" ] || losses=$(dotnet "$sample" --help | tr -d '\n' | sed -n 's/.*The batch loss, by name: \([^.]*\)\..*/\1/p' | tr -d ' ' | tr ',' ' ')
[ -n "$losses" ] || { echo "could not read the loss names from RetrievalMnist --help" >&2; exit 1; }

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
# run NAME ARGS...: one run, its RESULT line into $log/NAME, its miner into $log/NAME.miner.
run() {
  local name=$1; shift
  local out
  out=$(dotnet "$sample" --source "$idx" --threads 2 --clustering "$@") || { echo "$name failed:" >&2; echo "$out" | tail -n 5 >&2; return 1; }
  echo "$out" | grep '^RESULT' >> "$log/$name"
  echo "$out" | sed -n 's/.* miner=\([^,]*\),.*/\1/p' | head -n 1 > "$log/$name.miner"
}
# stats NAME FIELD: "mean ± sd" (sample standard deviation) of a RESULT field over the seeds.
stats() {
  sed -n "s/.* $2=\([0-9.]*\).*/\1/p" "$log/$1" | awk '{ s += $1; q += $1 * $1; n++ } END {
    m = s / n; v = n > 1 ? (q - n * m * m) / (n - 1) : 0; if (v < 0) v = 0;
    if (n > 1) printf "%.2f ± %.2f", m, sqrt(v); else printf "%.2f", m }'
}
mean() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" "$log/$1" | awk '{ s += $1; n++ } END { printf "%.2f", s / n }'; }

for seed in $seeds; do
  run untrained --untrained --seed "$seed"
done
for loss in $losses; do
  for seed in $seeds; do
    echo "$(date -u +%H:%M:%S) $loss seed $seed" >&2
    run "$loss" --loss "$loss" --epochs "$epochs" --seed "$seed"
  done
done

{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores of $cpu, 2 torch threads, CPUs otherwise idle, commit $(git rev-parse --short HEAD), by \`bash bench/loss-zoo.sh\`: Fashion-MNIST, the 784-128-128-128 MLP, $epochs epochs of batches of 320 (32 per class), Adam 1e-3 with cosine schedule, seeds $(echo "$seeds" | tr ' ' ','); mean ± standard deviation over the seeds."
  echo
  echo "| loss | miner | precision@1 (%) | MAP@R (%) | NMI (%) | s/epoch |"
  echo "|---|---|---|---|---|---|"
  echo "| untrained network | none | $(stats untrained precision_at_1) | $(stats untrained map_at_r) | $(stats untrained nmi) | |"
  for loss in $losses; do
    echo "| \`$loss\` | $(cat "$log/$loss.miner") | $(stats "$loss" precision_at_1) | $(stats "$loss" map_at_r) | $(stats "$loss" nmi) | $(mean "$loss" sec_per_epoch) |"
  done
} > "$log/table.md"
cat "$log/table.md"

if [ "$write" -eq 1 ]; then
  doc=docs/losses.md
  grep -q '<!-- figures:zoo -->' "$doc" || { echo "$doc has no <!-- figures:zoo --> block" >&2; exit 1; }
  awk -v table="$log/table.md" '
    /<!-- figures:zoo -->/ { print; while ((getline line < table) > 0) print line; skip = 1; next }
    /<!-- \/figures:zoo -->/ { skip = 0 }
    !skip { print }' "$doc" > "$log/doc.md"
  mv "$log/doc.md" "$doc"
  echo "wrote the table into $doc" >&2
fi
