#!/usr/bin/env bash
# Builds gloss in release mode and runs the standard benchmark set (BENCHMARKS.md):
#   100,000 events over 2, 20 and 200 feeds: import, export, rebuild, as-of, TCP sync, local edits;
#   1,000,000 events over 2, 20 and 200 feeds: import, export, rebuild (and peak memory of each);
# every figure with the raw SQLite baseline of the same run and the ratio Gloss / raw.
#
# Environment:
#   GLOSS_BENCH_QUICK=1      10,000-event histories only (a minute or two)
#   GLOSS_BENCH_REPEAT=N     repetitions per history (default 3; 1,000,000-event ones: GLOSS_BENCH_REPEAT_LARGE, default 1)
#   GLOSS_BENCH_SIZES="..."  override the sizes, e.g. "100000" or "100000 1000000"
#   GLOSS_BENCH_FEEDS="..."  override the feed counts (default "2 20 200")
#   GLOSS_BENCH_OUT=DIR      where results go (default bench-results/): one JSON and one table per history
#   GLOSS_BENCH_SCRATCH=DIR  SwiftPM scratch path for the release build (default .build-release)
# Benchmarks are not part of Scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=${GLOSS_BENCH_SCRATCH:-.build-release}
echo "== swift build -c release (scratch $scratch)"
for product in gloss gloss-bench; do  # `gloss bench` runs the gloss-bench built beside gloss
  swift build -c release --scratch-path "$scratch" --product "$product" 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\]' || true; }
  test "${PIPESTATUS[0]}" -eq 0
done
bin="$scratch/release/gloss"

out=${GLOSS_BENCH_OUT:-bench-results}
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/gloss-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') × $(nproc)"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo)"
  echo "kernel: $(uname -sr)"
  echo "filesystem: $(df -T "$work" | awk 'NR==2 {print $2}') ($work)"
  echo "sqlite: $(sqlite3 --version 2>/dev/null | cut -d' ' -f1 || echo '?')"
  echo "swift: $(swift --version 2>&1 | head -1)"
} | tee "$out/machine.txt"

if [ "${GLOSS_BENCH_QUICK:-0}" = "1" ]; then
  sizes=${GLOSS_BENCH_SIZES:-10000}
else
  sizes=${GLOSS_BENCH_SIZES:-100000 1000000}
fi
feeds=${GLOSS_BENCH_FEEDS:-2 20 200}

for n in $sizes; do
  for f in $feeds; do
    name="h${n}-f${f}"
    if [ "$n" -ge 1000000 ]; then
      ops="import,export,rebuild"; reps=${GLOSS_BENCH_REPEAT_LARGE:-1}
    else
      ops="import,export,rebuild,asof,sync,local"; reps=${GLOSS_BENCH_REPEAT:-3}
    fi
    echo
    echo "== $name: generate $n events over $f feeds"
    "$bin" bench generate --out "$work/$name.glossb" --events "$n" --replicas "$f" --seed 1 --json > "$out/$name.generate.json"
    cat "$out/$name.generate.json"
    echo "== $name: bench run --repeat $reps --ops $ops"
    "$bin" bench run --bundle "$work/$name.glossb" --repeat "$reps" --ops "$ops" --work "$work/run" --json \
      > "$out/$name.json" 2> "$out/$name.log"
    sed -n '/^gloss bench run:/,$p' "$out/$name.log" | tee "$out/$name.txt"
    rm -f "$work/$name.glossb"
  done
done
echo
echo "results in $out/ (machine.txt, *.json, *.txt, *.log)"
