#!/usr/bin/env bash
# Side-by-side: MetricLearning's ImageRetrieval sample reading Fashion-MNIST as PNG class folders, and the PyTorch
# retrieval yardstick (../shared/bench/pytorch-reference/retrieval_torch.py --net cnn) reading the same images as IDX
# arrays: the same small CNN, multi-similarity loss and miner, 32 images of each of 10 classes per batch, Adam 1e-3
# with cosine annealing. Order A B A B; prints each run's train seconds per epoch (mean over the epochs), precision@1,
# and each pair's ratio ours/PyTorch. Gets Fashion-MNIST from Debian's dataset-fashion-mnist package and PyTorch from
# python3-torch if they are missing. The sample tunes glibc's allocator (TorchRuntime.TuneNativeAllocator); PyTorch
# gets the same settings through MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_, so that both sides are measured
# without page-fault storms (--pytorch-default-allocator leaves PyTorch with glibc's defaults).
#
#   bench/compare-images.sh [--epochs N] [--rounds R] [--threads T] [--pytorch-default-allocator]
#
# Run it with the CPUs otherwise idle.
set -euo pipefail

epochs=10
rounds=2
threads=2
tuned="MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824"
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --pytorch-default-allocator) tuned=""; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
reference=$(cd "$root/../shared/bench/pytorch-reference" 2>/dev/null && pwd) || {
  echo "error: ../shared/bench/pytorch-reference not found beside the repository" >&2; exit 1; }
work=${METRICLEARNING_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/metriclearning/fashion-mnist}

missing=""
for package in python3-torch python3-numpy libopenblas0; do
  dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

idx="$work/idx/usr/share/datasets/fashion-mnist"
if [ ! -f "$idx/train-images-idx3-ubyte.gz" ]; then
  mkdir -p "$work/idx"
  (cd "$work" && apt-get download dataset-fashion-mnist >/dev/null && dpkg -x dataset-fashion-mnist_*.deb "$work/idx")
fi

dotnet build "$root/samples/IdxToImages/IdxToImages.csproj" -c Release --nologo -v quiet >/dev/null
dotnet build "$root/samples/ImageRetrieval/ImageRetrieval.csproj" -c Release --nologo -v quiet >/dev/null
if [ ! -d "$work/png/test" ]; then
  for split in train:train t10k:test; do
    dotnet "$root/samples/IdxToImages/bin/Release/net10.0/IdxToImages.dll" --images "$idx/${split%%:*}-images-idx3-ubyte.gz" \
      --labels "$idx/${split%%:*}-labels-idx1-ubyte.gz" --output "$work/png/${split##*:}"
  done
fi

ours_run() {  # prints "seconds precision" of one run of ours
  local out
  out=$(dotnet "$root/samples/ImageRetrieval/bin/Release/net10.0/ImageRetrieval.dll" --train "$work/png/train" --test "$work/png/test" \
    --epochs "$epochs" --threads "$threads" | grep '^RESULT')
  echo "OURS $out" >&2
  echo "$(echo "$out" | grep -o 'sec_per_epoch=[0-9.]*' | cut -d= -f2) $(echo "$out" | grep -o 'precision_at_1=[0-9.]*' | cut -d= -f2)"
}

pytorch_run() {  # prints "seconds precision" of one run of the yardstick
  local out
  out=$(env $tuned OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SKYLAKEX} /usr/bin/python3 "$reference/retrieval_torch.py" --data "$idx" --net cnn \
    --epochs "$epochs" --threads "$threads")
  echo "$out" | grep '^RESULT' | sed 's/^/PYTORCH /' >&2
  echo "$(echo "$out" | awk '$1 == "epoch" { total += $6; n++ } END { printf "%.2f", total / n }') $(echo "$out" | grep -o 'precision_at_1=[0-9.]*' | cut -d= -f2)"
}

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%Y-%m-%d); $threads thread(s), $epochs epochs, order A B A B; PyTorch allocator: ${tuned:-glibc defaults}"
echo "| round | ours s/epoch | ours precision@1 | PyTorch s/epoch | PyTorch precision@1 | ratio |"
echo "|---|---|---|---|---|---|"
for round in $(seq "$rounds"); do
  read -r a ap < <(ours_run)
  read -r b bp < <(pytorch_run)
  echo "| $round | $a | $ap | $b | $bp | $(python3 -c "print('%.2f' % ($a / $b))") |"
done
