#!/usr/bin/env bash
# Re-measures the figures docs/results.md quotes and prints them as its tables, with the machine and the date.
#   bash bench/figures.sh            # reference experiment, retrieval sample, Fashion-MNIST (about 35 minutes on 2 cores)
#   bash bench/figures.sh --all      # also every loss and miner of the retrieval table (about 90 minutes more)
#   bash bench/figures.sh --write    # and replaces the generated blocks of docs/results.md with the new tables
#                                    # (between <!-- figures:NAME --> and <!-- /figures:NAME -->), means added
# Run it with the CPUs otherwise idle: seconds per epoch depend on it (the accuracies do not).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
all=0
write=0
for arg in "$@"; do
  case "$arg" in
    --all) all=1 ;;
    --write) write=1 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done
if [ "$write" -eq 1 ]; then
  # Everything below prints into a file; "@@ NAME" lines start the blocks that replace docs/results.md's. Whatever
  # happens, the file is shown at the end, so that no measurement is lost.
  output=$(mktemp)
  exec 3>&1 > "$output"
  trap 'exec 1>&3; cat "$output"; rm -f "$output"' EXIT
fi

dotnet build samples/SiameseMnist -c Release --nologo -v quiet >/dev/null
dotnet build samples/RetrievalMnist -c Release --nologo -v quiet >/dev/null
siamese=samples/SiameseMnist/bin/Release/net10.0/SiameseMnist.dll
retrieval=samples/RetrievalMnist/bin/Release/net10.0/RetrievalMnist.dll
work=$(mktemp -d)
# The work folder goes at the end; with --write, the raw output is shown too, whatever happened (this replaces the trap above).
trap 'rm -rf "$work"; if [ "$write" -eq 1 ]; then exec 1>&3; cat "$output"; rm -f "$output"; fi' EXIT

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
measured="Measured $(date -u +%Y-%m-%d) on $(nproc) cores of $cpu (CPUs otherwise idle), commit $(git rev-parse --short HEAD), by \`bash bench/figures.sh\`"
echo "$measured."
echo

# value LOG SED-EXPRESSION: the first match of a sed -n 's/.../p' expression in a log.
value() { sed -n "$2" "$1" | head -n 1; }

echo "Reference experiment, 1 thread: dotnet run --project samples/SiameseMnist -c Release -- --seed S"
echo
echo "@@ siamese"
echo "$measured, one torch thread:"
echo
echo "| seed | test pair accuracy | train pair accuracy | s/epoch (training pass, mean of 20) | peak RSS |"
echo "|---|---|---|---|---|"
for seed in 1337 1 2; do
  dotnet "$siamese" --seed "$seed" --threads 1 > "$work/siamese-$seed.log"
  log="$work/siamese-$seed.log"
  echo "| $seed | $(value "$log" 's/^RESULT .*test_acc=\([0-9.]*\).*/\1/p')% | $(value "$log" 's/^RESULT .*train_acc=\([0-9.]*\).*/\1/p')% | $(value "$log" 's/^RESULT .*sec_per_epoch=\([0-9.]*\).*/\1/p') | $(value "$log" 's/^\* Peak RSS: \(.*\)/\1/p') |"
done
echo
echo "| seed | calibrated threshold | test accuracy at it | at 0.5 | test ROC AUC | test equal error rate |"
echo "|---|---|---|---|---|---|"
for seed in 1337 1 2; do
  log="$work/siamese-$seed.log"
  echo "| $seed | $(value "$log" 's/^\* Threshold calibrated on [0-9]* held-out training pairs: \([0-9.]*\);.*/\1/p') | $(value "$log" 's/.*test accuracy there \([0-9.]*%\).*/\1/p') | $(value "$log" 's/.*(at 0.5: \([0-9.]*%\)).*/\1/p') | $(value "$log" 's/^\* Test pairs: ROC AUC \([0-9.]*\),.*/\1/p') | $(value "$log" 's/.*equal error rate \([0-9.]*%\).*/\1/p') |"
done
echo

echo "Retrieval sample, 2 threads: dotnet run --project samples/RetrievalMnist -c Release -- --threads 2 --seed S"
echo
echo "@@ retrieval"
echo "$measured, two torch threads:"
echo
echo "| seed | precision@1 | R-precision | MAP@R | verification accuracy (calibrated) | s/epoch |"
echo "|---|---|---|---|---|---|"
for seed in 1337 1 2; do
  log="$work/retrieval-$seed.log"
  dotnet "$retrieval" --seed "$seed" --threads 2 > "$log"
  echo "| $seed | $(value "$log" 's/^RESULT .*precision_at_1=\([0-9.]*\).*/\1/p')% | $(value "$log" 's/^RESULT .*r_precision=\([0-9.]*\).*/\1/p')% | $(value "$log" 's/^RESULT .*map_at_r=\([0-9.]*\).*/\1/p')% | $(value "$log" 's/.*), accuracy \([0-9.]*%\),.*/\1/p') | $(value "$log" 's/^RESULT .*sec_per_epoch=\([0-9.]*\).*/\1/p') |"
done
echo

echo "Fashion-MNIST (Debian's dataset-fashion-mnist), the reference experiment's settings, 1 thread: --source DIR --seed 1337"
fashion="$work/fashion"
mkdir -p "$fashion"
( cd "$work" && apt-get download dataset-fashion-mnist >/dev/null 2>&1 && dpkg -x dataset-fashion-mnist_*.deb "$work/deb" )
cp "$work"/deb/usr/share/datasets/fashion-mnist/*.gz "$fashion"/
dotnet "$siamese" --source "$fashion" --seed 1337 --threads 1 > "$work/fashion.log"
log="$work/fashion.log"
echo
echo "@@ fashion"
echo "$measured, one torch thread, seed 1337:"
echo
echo "| data | test pair accuracy | train pair accuracy | calibrated | ROC AUC | s/epoch |"
echo "|---|---|---|---|---|---|"
echo "| Fashion-MNIST | $(value "$log" 's/^RESULT .*test_acc=\([0-9.]*\).*/\1/p')% | $(value "$log" 's/^RESULT .*train_acc=\([0-9.]*\).*/\1/p')% | $(value "$log" 's/.*test accuracy there \([0-9.]*%\).*/\1/p') | $(value "$log" 's/^\* Test pairs: ROC AUC \([0-9.]*\),.*/\1/p') | $(value "$log" 's/^RESULT .*sec_per_epoch=\([0-9.]*\).*/\1/p') |"
echo

if [ "$all" -eq 1 ]; then
  echo "Every loss and miner, 2 threads (retrieval sample):"
  echo
  echo "@@ losses"
  echo "| \`--loss\` / \`--miner\` | epochs | seeds | precision@1 | s/epoch |"
  echo "|---|---|---|---|---|"
  run() {  # run NAME EPOCHS SEEDS ARGS...
    local name=$1 epochs=$2 seeds=$3; shift 3
    local p1="" secs=""
    for seed in $seeds; do
      local log="$work/loss-$seed.log"
      if dotnet "$retrieval" --threads 2 --seed "$seed" --epochs "$epochs" "$@" > "$log" 2>&1; then
        p1="${p1:+$p1, }$(value "$log" 's/^RESULT .*precision_at_1=\([0-9.]*\).*/\1/p')"
        secs="${secs:+$secs, }$(value "$log" 's/^RESULT .*sec_per_epoch=\([0-9.]*\).*/\1/p')"
      else
        p1="${p1:+$p1, }stopped: $(grep -o 'collapsed[^.]*' "$log" | head -n 1)"
      fi
    done
    echo "| $name | $epochs | ${seeds// /, } | $p1% | $secs |"
  }
  run "\`proxy-anchor\` / none" 40 "1337 1 2" --loss proxy-anchor
  run "\`arcface\` / none" 40 "1337 1 2" --loss arcface
  run "\`triplet\` / \`batch-hard\` after 5 warm-up epochs" 20 1337 --loss triplet --miner batch-hard --miner-warmup 5
  run "\`triplet\` / \`semi-hard\`" 20 1337 --loss triplet --miner semi-hard
  run "\`triplet\` / \`batch-hard\` from the start" 20 1337 --loss triplet --miner batch-hard
fi

if [ "$write" -eq 1 ]; then
  exec 1>&3
  python3 - "$output" docs/results.md <<'PY'
import re, sys
text = open(sys.argv[1]).read()
page_path = sys.argv[2]
page = open(page_path).read()

def with_means(block):
    """Appends a mean row to each table whose rows are seeds, averaging every column that is numeric in every row."""
    lines, out, table = block.split("\n"), [], []
    def flush():
        out.extend(table)
        rows = [r for r in table[2:] if r.startswith("|")]
        cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows]
        if len(cells) >= 2 and all(c[0].isdigit() for c in cells):
            mean = ["**mean**"]
            for k in range(1, len(cells[0])):
                values = [re.fullmatch(r"([0-9.]+)(%| MB)?", c[k]) for c in cells]
                if all(values):
                    digits = max(len(v.group(1).split(".")[1]) if "." in v.group(1) else 0 for v in values)
                    mean.append(f"{sum(float(v.group(1)) for v in values) / len(values):.{digits}f}{values[0].group(2) or ''}")
                else:
                    mean.append("")
            out.append("| " + " | ".join(mean) + " |")
        table.clear()
    for line in lines:
        if line.startswith("|"):
            table.append(line)
        else:
            if table:
                flush()
            out.append(line)
    if table:
        flush()
    return "\n".join(out)

blocks = {}
for part in re.split(r"^@@ ", text, flags=re.M)[1:]:
    name, _, body = part.partition("\n")
    # A block ends with its last table row; what follows introduces the next section.
    rows = body.split("\n")
    table_rows = [i for i, line in enumerate(rows) if line.startswith("|")]
    if not table_rows:
        continue
    body = "\n".join(rows[:table_rows[-1] + 1])
    blocks[name.strip()] = with_means(body.strip())
for name, body in blocks.items():
    pattern = re.compile(rf"(<!-- figures:{name} -->\n).*?(\n<!-- /figures:{name} -->)", re.S)
    if not pattern.search(page):
        print(f"figures.sh: docs/results.md has no <!-- figures:{name} --> block; its table is in the output printed below, not written")
        continue
    page = pattern.sub(lambda m: m.group(1) + body + m.group(2), page)
open(page_path, "w").write(page)
print("figures.sh: wrote " + ", ".join(blocks) + " into " + page_path)
PY
fi
