#!/usr/bin/env bash
# Serving without libtorch, side by side: two console apps published with `dotnet publish -c Release -r linux-x64
# --self-contained false`, one serving with MetricLearning.Onnx (ONNX Runtime, no TorchSharp), one with TrainedModel
# and EmbeddingBatcher (TorchSharp and libtorch), on the same seeded reference MLP and small CNN
# (bench serving-models). Prints each published folder's size and whether it holds a libtorch library, the time from
# process start to the first embedding (median of R rounds, the two apps alternating), and embeddings per second with
# 1 and 64 concurrent callers each asking for one embedding at a time (batched: EmbedAsync on both sides).
#
#   bash bench/compare-serving.sh [--rounds 5] [--seconds 5] [--threads 1] [--write]
#
# --write replaces the block between <!-- figures:serving --> and <!-- /figures:serving --> of
# docs/how-to/serve-with-onnx.md with the table. Run it with the CPUs otherwise idle.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=5
seconds=5
threads=1
write=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --write) write=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dotnet build bench/MetricLearning.Bench -c Release --nologo -v quiet >/dev/null
dotnet bench/MetricLearning.Bench/bin/Release/net10.0/MetricLearning.Bench.dll serving-models --out "$work/models" >/dev/null
for app in OnnxServeApp TorchServeApp; do
  dotnet publish "bench/serving/$app/$app.csproj" -c Release -r linux-x64 --self-contained false -o "$work/$app" --nologo -v quiet >/dev/null
done

size() { du -sb "$1" | awk '{ printf "%.1f MB", $1 / 1e6 }'; }
libtorch() { if [ -n "$(find "$1" -name 'libtorch*.so*' | head -n 1)" ]; then echo yes; else echo no; fi; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
onnx_model() { echo "$work/models/$1.onnx"; }
torch_model() { echo "$work/models/$1"; }

for model in mlp cnn; do
  : > "$work/cold-onnx-$model"; : > "$work/cold-torch-$model"
  for round in $(seq "$rounds"); do
    "$work/OnnxServeApp/OnnxServeApp" "$(onnx_model $model)" cold | sed -n 's/first_embedding_ms=//p' >> "$work/cold-onnx-$model"
    "$work/TorchServeApp/TorchServeApp" "$(torch_model $model)" cold | sed -n 's/first_embedding_ms=//p' >> "$work/cold-torch-$model"
  done
  "$work/OnnxServeApp/OnnxServeApp" "$(onnx_model $model)" throughput 1,64 "$seconds" "$threads" > "$work/rate-onnx-$model"
  "$work/TorchServeApp/TorchServeApp" "$(torch_model $model)" throughput 1,64 "$seconds" "$threads" > "$work/rate-torch-$model"
done

rate() { sed -n "s/^callers=$2 embeddings_per_second=//p" "$work/rate-$1"; }
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores of $cpu, commit $(git rev-parse --short HEAD), by \`bash bench/compare-serving.sh --rounds $rounds --seconds $seconds --threads $threads\`: apps published for linux-x64 (framework-dependent), $threads inference thread(s) on each side, cold start the median of $rounds runs, the two apps alternating."
  echo
  echo "| | MetricLearning.Onnx | TrainedModel (TorchSharp) |"
  echo "|---|---|---|"
  echo "| published app | $(size "$work/OnnxServeApp") (libtorch: $(libtorch "$work/OnnxServeApp")) | $(size "$work/TorchServeApp") (libtorch: $(libtorch "$work/TorchServeApp")) |"
  for model in mlp cnn; do
    echo "| $model: process start to first embedding | $(median < "$work/cold-onnx-$model") ms | $(median < "$work/cold-torch-$model") ms |"
    echo "| $model: embeddings/s, 1 caller | $(rate onnx-$model 1) | $(rate torch-$model 1) |"
    echo "| $model: embeddings/s, 64 callers | $(rate onnx-$model 64) | $(rate torch-$model 64) |"
  done
} > "$work/table.md"
cat "$work/table.md"

if [ "$write" -eq 1 ]; then
  doc=docs/how-to/serve-with-onnx.md
  grep -q '<!-- figures:serving -->' "$doc" || { echo "$doc has no <!-- figures:serving --> block" >&2; exit 1; }
  awk -v table="$work/table.md" '
    /<!-- figures:serving -->/ { print; while ((getline line < table) > 0) print line; skip = 1; next }
    /<!-- \/figures:serving -->/ { skip = 0 }
    !skip { print }' "$doc" > "$work/doc.md"
  mv "$work/doc.md" "$doc"
  echo "wrote the table into $doc" >&2
fi
