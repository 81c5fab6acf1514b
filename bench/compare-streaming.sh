#!/usr/bin/env bash
# An epoch of the ImageRetrieval sample (small CNN, Fashion-MNIST as PNG class folders) with the images decoded once
# into memory against the same epoch streamed from the files (--stream: every batch decoded again when it is read), in
# the order A B A B; prints each run's train seconds per epoch and each pair's ratio streamed/in memory. The PNG folders
# are the ones bench/compare-images.sh writes (run it first, or point METRICLEARNING_BENCH_DIR at a folder holding
# png/train and png/test).
#
#   bench/compare-streaming.sh [--epochs N] [--rounds R] [--threads T] [--prefetch P]
#
# --prefetch is passed to the streamed runs (batches decoded ahead on worker threads; 0 decodes on the training
# thread). Run it with the CPUs otherwise idle.
set -euo pipefail

epochs=2
rounds=2
threads=2
prefetch=""
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --prefetch) [ $# -ge 2 ] || { echo "--prefetch needs a number" >&2; exit 2; }; prefetch="--prefetch $2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=${METRICLEARNING_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/metriclearning/fashion-mnist}
if [ ! -d "$work/png/test" ]; then
  echo "error: no PNG folders at $work/png; run bench/compare-images.sh once first" >&2; exit 1
fi
dotnet build "$root/samples/ImageRetrieval/ImageRetrieval.csproj" -c Release --nologo -v quiet >/dev/null

run() {  # prints the train seconds per epoch of one run; $@ are extra options
  local out
  out=$(dotnet "$root/samples/ImageRetrieval/bin/Release/net10.0/ImageRetrieval.dll" --train "$work/png/train" --test "$work/png/test" \
    --epochs "$epochs" --threads "$threads" "$@" | grep '^RESULT')
  echo "$* $out" >&2
  echo "$out" | grep -o 'sec_per_epoch=[0-9.]*' | cut -d= -f2
}

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u '+%Y-%m-%d %H:%M') UTC; $threads thread(s), $epochs epochs, order A B A B; streamed: --stream $prefetch"
echo "| round | in memory s/epoch | streamed s/epoch | ratio |"
echo "|---|---|---|---|"
for round in $(seq "$rounds"); do
  a=$(run)
  # shellcheck disable=SC2086
  b=$(run --stream $prefetch)
  echo "| $round | $a | $b | $(python3 -c "print('%.2f' % ($b / $a))") |"
done
