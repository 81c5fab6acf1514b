#!/usr/bin/env bash
# Kills the Siamese MNIST sample with SIGKILL at random moments, resumes it from its checkpoint each time, and
# compares the final weights and figures with those of an uninterrupted run (same seed and thread count).
#   bash bench/kill-resume.sh            # 4 kills, seed 1337, 1 thread, 20 epochs
#   KILLS=6 SEED=2 THREADS=2 EPOCHS=10 bash bench/kill-resume.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dotnet build samples/SiameseMnist -c Release --nologo -v quiet >/dev/null
dll=samples/SiameseMnist/bin/Release/net10.0/SiameseMnist.dll
args=(--seed "${SEED:-1337}" --threads "${THREADS:-1}" --epochs "${EPOCHS:-20}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "uninterrupted: dotnet $dll ${args[*]} --save reference.bin"
start=$(date +%s)
dotnet "$dll" "${args[@]}" --save "$work/reference.bin" > "$work/reference.log"
seconds=$(( $(date +%s) - start ))
grep '^RESULT' "$work/reference.log"

kills=0
while :; do
  resume=()
  [ -f "$work/checkpoints/checkpoint.mlckpt" ] && resume=(--resume)
  dotnet "$dll" "${args[@]}" --checkpoint "$work/checkpoints" "${resume[@]}" --save "$work/resumed.bin" > "$work/run.log" 2>&1 &
  pid=$!
  if [ "$kills" -lt "${KILLS:-4}" ]; then
    delay=$(( 3 + RANDOM % (seconds / 3 + 1) ))
    sleep "$delay"
    if kill -0 "$pid" 2>/dev/null; then
      kill -9 "$pid"; wait "$pid" 2>/dev/null || true
      kills=$((kills + 1))
      echo "killed (SIGKILL) ${delay} s into run $kills${resume:+ (a resumed run)}"
      continue
    fi
  fi
  wait "$pid"
  echo "finished${resume:+ after resuming}"
  break
done

grep '^RESULT' "$work/run.log"
if cmp -s "$work/reference.bin" "$work/resumed.bin"; then
  echo "final weights: bit-identical ($(sha256sum < "$work/resumed.bin" | cut -c1-16))"
else
  echo "final weights: DIFFERENT"; exit 1
fi
