#!/usr/bin/env bash
# Proves the packages work for a user: packs MetricLearning, creates fresh console
# projects outside the repository, adds the package from the packed output with
# `dotnet add package`, builds them (which applies the package's native-library fix),
# computes losses by hand-checked values, trains through MetricLearning.Mnist on an IDX set of its own
# (MnistApp.cs.txt), and runs README's quick start (QuickStart.cs.txt): trains on float[][] with string labels,
# saves, loads, embeds and verifies.
# Prints "package-smoke: passed" or fails.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/metriclearning-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
# A unique pre-release version, so that no copy cached by an earlier run is used.
version="0.1.0-smoke.$(date +%s)"

dotnet pack "$root/src/MetricLearning.Core/MetricLearning.Core.csproj" -c Release -o "$work/feed" \
  -p:Version="$version" --nologo -v quiet
dotnet pack "$root/src/MetricLearning.Mnist/MetricLearning.Mnist.csproj" -c Release -o "$work/feed" \
  -p:Version="$version" --nologo -v quiet
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

# README's quick start, in a second fresh app that references only the packages.
mkdir -p "$work/quickstart"
cd "$work/quickstart"
dotnet new console --framework net10.0 --name QuickStart --output . >/dev/null
cp "$work/app/nuget.config" .
dotnet add package MetricLearning --version "$version" >/dev/null
dotnet add package TorchSharp-cpu --version 0.107.0 >/dev/null
cp "$root/tests/package-smoke/QuickStart.cs.txt" Program.cs
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
