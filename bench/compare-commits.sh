#!/usr/bin/env bash
# Side-by-side: the samples whose figures must not change, built from two commits (BEFORE, and the working tree),
# run in turns (A B A B). Prints each run's RESULT line and whether every accuracy figure is identical between the two
# builds; the seconds per epoch are for comparing speed within the run-to-run spread. The runs:
#   SiameseMnist --seed S --threads 1 for S in 1337 1 2 (the reference experiment),
#   RetrievalMnist with its defaults, and
#   ImageRetrieval on Fashion-MNIST PNG class folders for --image-epochs epochs (2 threads).
#
#   bench/compare-commits.sh BEFORE [--rounds R] [--image-epochs N]
#
# Run it with the CPUs otherwise idle. Fashion-MNIST comes from Debian's dataset-fashion-mnist package.
set -euo pipefail

[ $# -ge 1 ] || { sed -n '2,10p' "$0"; exit 2; }
before=$1; shift
rounds=2
image_epochs=10
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --image-epochs) image_epochs=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
git -C "$root" rev-parse --verify "$before^{commit}" >/dev/null
work=${METRICLEARNING_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/metriclearning}
old="$work/compare-commits/$(git -C "$root" rev-parse --short "$before")"
if [ ! -d "$old" ]; then
  mkdir -p "$(dirname "$old")"
  git -C "$root" worktree prune   # a worktree whose folder was deleted with the cache is forgotten first
  git -C "$root" worktree add --detach "$old" "$before" >/dev/null
fi
for tree in "$old" "$root"; do
  for sample in SiameseMnist RetrievalMnist ImageRetrieval; do
    dotnet build "$tree/samples/$sample/$sample.csproj" -c Release --nologo -v quiet >/dev/null
  done
done
dotnet build "$root/samples/IdxToImages/IdxToImages.csproj" -c Release --nologo -v quiet >/dev/null

fashion="$work/fashion-mnist"
idx="$fashion/idx/usr/share/datasets/fashion-mnist"
if [ ! -f "$idx/train-images-idx3-ubyte.gz" ]; then
  mkdir -p "$fashion/idx"
  (cd "$fashion" && rm -f dataset-fashion-mnist_*.deb && apt-get download dataset-fashion-mnist >/dev/null && dpkg -x dataset-fashion-mnist_*.deb "$fashion/idx")
fi
if [ ! -d "$fashion/png/test" ]; then
  for split in train:train t10k:test; do
    dotnet "$root/samples/IdxToImages/bin/Release/net10.0/IdxToImages.dll" --images "$idx/${split%%:*}-images-idx3-ubyte.gz" \
      --labels "$idx/${split%%:*}-labels-idx1-ubyte.gz" --output "$fashion/png/${split##*:}" >/dev/null
  done
fi

run() {  # tree, run name: prints the run's RESULT line, or says that the run printed none
  local tree=$1 name=$2 bin
  bin() { echo "$tree/samples/$1/bin/Release/net10.0/$1.dll"; }
  case "$name" in
    siamese-*) dotnet "$(bin SiameseMnist)" --seed "${name#siamese-}" --threads 1 ;;
    retrieval) dotnet "$(bin RetrievalMnist)" ;;
    images) dotnet "$(bin ImageRetrieval)" --train "$fashion/png/train" --test "$fashion/png/test" --epochs "$image_epochs" --threads 2 ;;
  esac | grep '^RESULT' || echo "no RESULT line (the run failed)"
}

# The figures that must be identical: everything but the timings.
figures() { sed -E 's/ (sec_per_epoch|peak_rss|seconds)=[^ ]*//g'; }

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%Y-%m-%dT%H:%MZ); before $(git -C "$root" rev-parse --short "$before"), after: the working tree at $(git -C "$root" rev-parse --short HEAD)"
same=1
for name in siamese-1337 siamese-1 siamese-2 retrieval images; do
  for round in $(seq "$rounds"); do
    a=$(run "$old" "$name")
    b=$(run "$root" "$name")
    echo "$name round $round before: $a"
    echo "$name round $round after:  $b"
    if [ "$(echo "$a" | figures)" != "$(echo "$b" | figures)" ]; then
      echo "$name round $round: the figures differ"
      same=0
    fi
  done
done
[ "$same" -eq 1 ] && echo "every figure identical" || { echo "some figures differ"; exit 1; }
