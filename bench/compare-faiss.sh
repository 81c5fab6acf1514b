#!/usr/bin/env bash
# Our exact and HNSW search beside Debian's FAISS (python3-faiss 1.7.3) on the same data, A B A B: each round runs our
# side (bench search-ours: it generates the seeded vectors and queries and writes them as .npy) and then FAISS's
# (bench/faiss-search.py on those files), each in a fresh process, and prints per round the milliseconds per query,
# GFLOP/s of exact search, HNSW build seconds and recall@10, and the ratios ours/FAISS.
#
#   bash bench/compare-faiss.sh [--rounds 3] [--count 100000] [--dim 128] [--queries 500] [--threads 2]
#                               [--distribution latent16] [--hnsw] [--search-breadth 64] [--connectivity 16]
#                               [--precision Float32]
#
# --search-breadth sets our HNSW's ef, --connectivity its M and --precision how it stores vectors (Float32, Float16
# or Int8); FAISS's efSearch stays 64, its M 16 and its storage float32, so other values of ours show our build and
# query times at FAISS's recall or above.
#
# Installs nothing: needs /usr/bin/python3 with python3-faiss and numpy (apt-get install python3-faiss), and an
# optimised BLAS for FAISS (apt-get install libopenblas0-pthread; Debian's default reference BLAS makes FAISS's flat
# search about ten times slower). Run it with the CPUs otherwise idle and state the CPU (lscpu) with the figures.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=3 count=100000 dim=128 queries=500 threads=2 distribution=latent16 hnsw="" breadth=64 links=16 precision=Float32
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --count) count=$2; shift 2 ;;
    --dim) dim=$2; shift 2 ;;
    --queries) queries=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --distribution) distribution=$2; shift 2 ;;
    --hnsw) hnsw="--hnsw"; shift ;;
    --search-breadth) breadth=$2; shift 2 ;;
    --connectivity) links=$2; shift 2 ;;
    --precision) precision=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
/usr/bin/python3 -c 'import faiss, numpy' 2>/dev/null || { echo "compare-faiss: /usr/bin/python3 cannot import faiss and numpy; apt-get install python3-faiss" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dotnet build bench/MetricLearning.Bench -c Release --nologo -v quiet >/dev/null
value() { sed -n "s/^$1=//p" "$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

echo "$count x $dim-d ($distribution), $queries queries in one batch, cosine, top 10, $threads thread(s) each side, our ef $breadth, M $links and $precision storage, FAISS's 64, 16 and float32; $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
echo "| round | exact ms/query ours | FAISS | ratio | GFLOP/s ours | FAISS | same top 10 | HNSW build s ours | FAISS | ratio | HNSW ms/query ours | FAISS | ratio | recall@10 ours | FAISS |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for round in $(seq 1 "$rounds"); do
  OMP_NUM_THREADS=$threads dotnet bench/MetricLearning.Bench/bin/Release/net10.0/MetricLearning.Bench.dll search-ours --count "$count" --dim "$dim" \
    --queries "$queries" --distribution "$distribution" --threads "$threads" --data "$work" --search-breadth "$breadth" --connectivity "$links" --precision "$precision" $hnsw > "$work/ours.txt"
  OMP_NUM_THREADS=$threads /usr/bin/python3 bench/faiss-search.py "$work" --threads "$threads" $hnsw > "$work/faiss.txt"
  oe=$(value exact_ms_per_query "$work/ours.txt"); fe=$(value exact_ms_per_query "$work/faiss.txt")
  line="| $round | $oe | $fe | $(ratio "$oe" "$fe") | $(value exact_gflops "$work/ours.txt") | $(value exact_gflops "$work/faiss.txt") | $(value exact_same_top10_as_ours "$work/faiss.txt")"
  if [ -n "$hnsw" ]; then
    ob=$(value hnsw_build_s "$work/ours.txt"); fb=$(value hnsw_build_s "$work/faiss.txt")
    oq=$(value hnsw_ms_per_query "$work/ours.txt"); fq=$(value hnsw_ms_per_query "$work/faiss.txt")
    line="$line | $ob | $fb | $(ratio "$ob" "$fb") | $oq | $fq | $(ratio "$oq" "$fq") | $(value hnsw_recall "$work/ours.txt") | $(value hnsw_recall "$work/faiss.txt") |"
  else
    line="$line | | | | | | | | |"
  fi
  echo "$line"
done
