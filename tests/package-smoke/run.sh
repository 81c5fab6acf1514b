#!/usr/bin/env bash
# Proves the packages work for a user: packs them, creates fresh console projects outside the repository, adds
# one package to each from the packed output with `dotnet add package`, builds them (which applies the package's
# native-library fix), computes losses by hand-checked values and checks that the core package brings no
# integration's native library (Program.cs.txt), trains through MetricLearning.Mnist on an IDX set of its own
# (MnistApp.cs.txt), runs README's quick start (the first C# block under "## Quick start", taken from README.md itself so that the
# two cannot drift: trains on float[][] with string labels, saves,
# loads, embeds and verifies), and gives each integration package (MetricLearning.Images, .Search, .PyTorch,
# .Reports, .Extensions.AI) an app of its own that references only it (ImagesApp.cs.txt, SearchApp.cs.txt,
# PyTorchApp.cs.txt, ReportsApp.cs.txt, ExtensionsAIApp.cs.txt), and exports a model to ONNX (OnnxExportApp.cs.txt)
# that an app referencing only MetricLearning.Onnx serves without TorchSharp (OnnxApp.cs.txt) and one referencing
# MetricLearning.VectorData and MetricLearning.Onnx stores and searches without TorchSharp (VectorDataApp.cs.txt).
# Prints "package-smoke: passed" or fails.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/metriclearning-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Each app's build output (about 1 GB with libtorch) is removed once the app is checked, so that the run needs the
# room of one app at a time, not of all of them.
discard_build() { rm -rf "$1/bin" "$1/obj"; }
# A unique pre-release version, so that no copy cached by an earlier run is used.
version="0.1.0-smoke.$(date +%s)"

dotnet pack "$root/src/MetricLearning.Core/MetricLearning.Core.csproj" -c Release -o "$work/feed" \
  -p:Version="$version" --nologo -v quiet
for package in Vectors Mnist Images Search PyTorch Reports Extensions.AI Onnx.Export Onnx VectorData; do
  dotnet pack "$root/src/MetricLearning.$package/MetricLearning.$package.csproj" -c Release -o "$work/feed" \
    -p:Version="$version" --nologo -v quiet
done
ls "$work/feed"

mkdir -p "$work/app"
cd "$work/app"
dotnet new console --framework net10.0 --name SmokeApp --output . >/dev/null
# The packed folder as an extra source; the machine's own sources still apply.
cat > nuget.config <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="packed" value="$work/feed" />
  </packageSources>
</configuration>
XML
dotnet add package MetricLearning --version "$version" >/dev/null
dotnet add package TorchSharp-cpu --version 0.107.0 >/dev/null
cp "$root/tests/package-smoke/Program.cs.txt" Program.cs

output=$(dotnet run -c Release 2>&1) || { echo "$output"; echo "package-smoke: the app failed"; exit 1; }
echo "$output"
# Expected, by hand: distances 0.5 (same class) and 2.5 (different, beyond margin 1):
# mean(0.5^2, 0) = 0.125; and the batch-hard triplet loss worked out in Program.cs.txt, 0.7.
if [[ "$output" != *"loss=0.125000"* || "$output" != *"mined=0.700000"* ]]; then
  echo "package-smoke: expected loss=0.125000 and mined=0.700000"
  exit 1
fi
# The core package alone brings TorchSharp (and, through it, SkiaSharp 2.88's managed assembly) and the
# Microsoft.Extensions abstractions: no integration's native library or assembly.
bin="$work/app/bin/Release/net10.0"
echo "core app: $(du -sh "$bin" | cut -f1) in bin/; native libraries other than libtorch's:"
find "$bin" -name '*.so*' | grep -v -E '/(libtorch|libc10|libgomp|libLibTorchSharp|libbackend_with_compiler|libjitbackend_test|libnnapi_backend|libshm|libtorch_global_deps|libtorchbind_test)' | sed "s|$bin/|  |" || true
for unwanted in 'libSkiaSharp.so' 'libusearch_c.so' 'TorchVision.dll' 'TorchSharp.PyBridge.dll' 'Cloud.Unum.USearch.dll'; do
  if [ -n "$(find "$bin" -name "$unwanted" | head -n 1)" ]; then
    echo "package-smoke: the core package brought $unwanted"
    exit 1
  fi
done
discard_build "$work/app"

# MetricLearning.Mnist, in its own fresh app: an IDX set in MNIST's layout (not MNIST) loads, trains and is
# validated; a damaged file is refused, named.
mkdir -p "$work/mnist"
cd "$work/mnist"
dotnet new console --framework net10.0 --name MnistApp --output . >/dev/null
cp "$work/app/nuget.config" .
dotnet add package MetricLearning.Mnist --version "$version" >/dev/null
dotnet add package TorchSharp-cpu --version 0.107.0 >/dev/null
cp "$root/tests/package-smoke/MnistApp.cs.txt" Program.cs
output=$(dotnet run -c Release 2>&1) || { echo "$output"; echo "package-smoke: the MetricLearning.Mnist app failed"; exit 1; }
echo "$output"
mnist_accuracy=$(echo "$output" | sed -n 's/^test pair accuracy: \([0-9.]*\)%$/\1/p')
if [[ "$output" != *"loaded: train 300 of 8x8, test 90, classes 3"* || "$output" != *"damaged file: refused, named"* ]] \
   || ! awk -v a="$mnist_accuracy" 'BEGIN { exit !(a >= 90) }'; then
  echo "package-smoke: the MetricLearning.Mnist app did not load, train (90% needed, got '$mnist_accuracy'%) and refuse as expected"
  exit 1
fi
discard_build "$work/mnist"

# Each integration package in a fresh app that references only it (and a backend).
integration() {  # package, source file, then the lines its output must contain; $with: "id version" of one more package the app adds
  local package=$1 source=$2; shift 2
  mkdir -p "$work/$package"
  cd "$work/$package"
  dotnet new console --framework net10.0 --name "${package//./}App" --output . >/dev/null
  cp "$work/app/nuget.config" .
  dotnet add package "$package" --version "$version" >/dev/null
  dotnet add package TorchSharp-cpu --version 0.107.0 >/dev/null
  if [ -n "${with:-}" ]; then dotnet add package ${with% *} --version ${with#* } >/dev/null; fi
  cp "$root/tests/package-smoke/$source" Program.cs
  output=$(dotnet run -c Release 2>&1) || { echo "$output"; echo "package-smoke: the $package app failed"; exit 1; }
  echo "$output"
  for expected in "$@"; do
    if [[ "$output" != *"$expected"* ]]; then
      echo "package-smoke: the $package app did not print '$expected'"
      exit 1
    fi
  done
  discard_build "$work/$package"
}
integration MetricLearning.Images ImagesApp.cs.txt "loaded: 6 images of 1x4x6, classes dark, light" "pixels: first 30, last 220" "stray file: refused, named"
integration MetricLearning.Search SearchApp.cs.txt "same answers after loading: True"
agree=$(echo "$output" | sed -n 's/^nearest neighbour agrees with exact search: \([0-9]*\) of 100$/\1/p')
if [ -z "$agree" ] || [ "$agree" -lt 90 ]; then
  echo "package-smoke: the approximate index agreed with exact search on '$agree' of 100 queries (90 needed)"
  exit 1
fi
integration MetricLearning.PyTorch PyTorchApp.cs.txt "weights.pt: same embeddings True" "weights.safetensors: same embeddings True" "resnet-18 embeddings: [2, 32]"
integration MetricLearning.Reports ReportsApp.cs.txt "charts: 2, all named in the page: True"
# An app that serves has a container: the DI implementation is the one package it adds besides ours.
with="Microsoft.Extensions.DependencyInjection 10.0.0" integration MetricLearning.Extensions.AI ExtensionsAIApp.cs.txt "embeddings: 2 of 4, the model's own: True"

# ONNX: exported by an app with MetricLearning.Onnx.Export, served by one that references only MetricLearning.Onnx
# (no TorchSharp, no libtorch in its output).
export SMOKE_ONNX_DIR="$work/onnx-model"
mkdir -p "$SMOKE_ONNX_DIR"
integration MetricLearning.Onnx.Export OnnxExportApp.cs.txt "exported: True"
mkdir -p "$work/onnx-serve"
cd "$work/onnx-serve"
dotnet new console --framework net10.0 --name OnnxApp --output . >/dev/null
cp "$work/app/nuget.config" .
dotnet add package MetricLearning.Onnx --version "$version" >/dev/null
cp "$root/tests/package-smoke/OnnxApp.cs.txt" Program.cs
output=$(dotnet run -c Release 2>&1) || { echo "$output"; echo "package-smoke: the MetricLearning.Onnx app failed"; exit 1; }
echo "$output"
for expected in "embeddings: 3 of 4, as TorchSharp's: True" "compare as TorchSharp: True, verify as TorchSharp: True" \
    "metadata: EuclideanDistance, threshold 0.75, classes left, right" "search without torch: True" \
    "damaged file: refused, named"; do
  if [[ "$output" != *"$expected"* ]]; then
    echo "package-smoke: the MetricLearning.Onnx app did not print '$expected'"
    exit 1
  fi
done
bin="$work/onnx-serve/bin/Release/net10.0"
echo "onnx serving app: $(du -sh "$bin" | cut -f1) in bin/"
if [ -n "$(find "$bin" -name 'libtorch*' -o -name 'TorchSharp*.dll' -o -name 'libLibTorchSharp*' | head -n 1)" ]; then
  echo "package-smoke: the MetricLearning.Onnx app brought TorchSharp or libtorch"
  exit 1
fi
discard_build "$work/onnx-serve"

# VectorData: the exported model's inputs stored and searched through Microsoft.Extensions.VectorData by an app that
# references MetricLearning.VectorData and MetricLearning.Onnx only (no TorchSharp, no libtorch in its output).
mkdir -p "$work/vectordata"
cd "$work/vectordata"
dotnet new console --framework net10.0 --name VectorDataApp --output . >/dev/null
cp "$work/app/nuget.config" .
dotnet add package MetricLearning.VectorData --version "$version" >/dev/null
dotnet add package MetricLearning.Onnx --version "$version" >/dev/null
cp "$root/tests/package-smoke/VectorDataApp.cs.txt" Program.cs
output=$(dotnet run -c Release 2>&1) || { echo "$output"; echo "package-smoke: the MetricLearning.VectorData app failed"; exit 1; }
echo "$output"
for expected in "records: 3, nearest is itself: True" "after restart: True"; do
  if [[ "$output" != *"$expected"* ]]; then
    echo "package-smoke: the MetricLearning.VectorData app did not print '$expected'"
    exit 1
  fi
done
if [ -n "$(find "$work/vectordata/bin" -name 'libtorch*' -o -name 'TorchSharp*.dll' -o -name 'libLibTorchSharp*' | head -n 1)" ]; then
  echo "package-smoke: the MetricLearning.VectorData app brought TorchSharp or libtorch"
  exit 1
fi
discard_build "$work/vectordata"

# README's quick start, in a second fresh app that references only the packages.
mkdir -p "$work/quickstart"
cd "$work/quickstart"
dotnet new console --framework net10.0 --name QuickStart --output . >/dev/null
cp "$work/app/nuget.config" .
dotnet add package MetricLearning --version "$version" >/dev/null
dotnet add package TorchSharp-cpu --version 0.107.0 >/dev/null
awk '/^## Quick start/ { section = 1 } section && /^```csharp/ { inside = 1; next } inside && /^```/ { exit } inside' "$root/README.md" > Program.cs
[ -s Program.cs ] || { echo "package-smoke: no C# block under '## Quick start' in README.md"; exit 1; }
output=$(dotnet run -c Release 2>&1) || { echo "$output"; echo "package-smoke: the quick start failed"; exit 1; }
echo "$output"
accuracy=$(echo "$output" | sed -n 's/^verification accuracy on new pairs: \([0-9.]*\)%$/\1/p')
if [[ "$output" == *"same embedding after loading: True"* && "$output" == *"classes: circle, square, triangle"* \
      && "$output" == *"same class: True"* && "$output" == *"circle vs square: distance"*"same class: False"* \
      && -n "$accuracy" ]] && awk -v a="$accuracy" 'BEGIN { exit !(a >= 95) }'; then
  echo "package-smoke: passed"
else
  echo "package-smoke: the quick start did not save, load, embed and verify as expected (accuracy '$accuracy'%, 95% needed)"
  exit 1
fi
