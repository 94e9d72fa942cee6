#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (Swift, -sanitize=fuzzer,address) and runs each for SECONDS.
#
#   Scripts/fuzz.sh [SECONDS] [TARGET...]      # default 60 s; default every target
#   FUZZ_JOBS=2 Scripts/fuzz.sh 30             # two targets at a time (one per core)
#   FUZZ_ARGS="-max_len=65536" Scripts/fuzz.sh # extra libFuzzer flags for every target
#   FUZZ_CONFIG=release Scripts/fuzz.sh 600    # optimised build: 2–8x the exec/s, but its first
#                                              # build takes ~15 min on 2 cores (debug: ~6 min)
#
# Each target starts from a temporary copy of Fuzz/Corpus/<Target>/ (the committed seeds never grow),
# with -rss_limit_mb=2048 and -timeout=10. An input that crashes, hangs or runs out of memory is
# copied to Fuzz/Regressions/<Target>/ (replayed by Tests/GlossModelTests/FuzzRegressionTests.swift
# once committed) and the script exits 1. Logs: Fuzz/.build-fuzz/logs/<Target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-60}
shift || true
all=(FuzzEnvelope FuzzPayload FuzzBundle FuzzWireFrame FuzzVectorFile FuzzArticle)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
jobs=${FUZZ_JOBS:-1}
config=${FUZZ_CONFIG:-debug}
case "$seconds" in ''|*[!0-9]*) echo "usage: Scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2;; esac

# Swift's own crash backtracer would race libFuzzer's handler; libFuzzer and ASan print the stack.
export SWIFT_BACKTRACE=enable=no
scratch="$root/Fuzz/.build-fuzz"

echo "== building the fuzz targets ($config, scratch path Fuzz/.build-fuzz)"
start=$(date +%s)
(cd Fuzz && swift build -c "$config" --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address --scratch-path "$scratch" 2>&1) \
  | { grep -vE '^\[[0-9]+/[0-9]+\]|Cannot export local symbol' || true; }
test "${PIPESTATUS[0]}" -eq 0
bin="$scratch/$config"
echo "built in $(( $(date +%s) - start )) s"

logs="$scratch/logs"
mkdir -p "$logs"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Runs one target; writes its result line to $work/<target>.result.
run_target() {
  local t=$1
  local dir="$work/$t"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  if [ -d "Fuzz/Corpus/$t" ]; then cp -R "Fuzz/Corpus/$t/." "$dir/corpus/"; fi
  local rc=0
  # shellcheck disable=SC2086
  "$bin/$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/" ${FUZZ_ARGS:-} "$dir/corpus" > "$logs/$t.log" 2>&1 || rc=$?
  local runs execs rss
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$logs/$t.log" | grep -oE '[0-9]+$' || true)
  execs=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$logs/$t.log" | grep -oE '[0-9]+$' || true)
  rss=$(grep -oE 'stat::peak_rss_mb: *[0-9]+' "$logs/$t.log" | grep -oE '[0-9]+$' || true)
  local found=()
  for f in "$dir"/artifacts/*; do
    [ -e "$f" ] || continue
    mkdir -p "Fuzz/Regressions/$t"
    cp "$f" "Fuzz/Regressions/$t/"
    found+=("Fuzz/Regressions/$t/$(basename "$f")")
  done
  if [ ${#found[@]} -gt 0 ] || [ $rc -ne 0 ]; then
    echo "$t: FAILED (exit $rc) after ${runs:-?} runs; ${found[*]:-no input saved}; log $logs/$t.log" > "$work/$t.result"
  else
    echo "$t: ok, ${runs:-?} runs, ${execs:-?} exec/s, peak RSS ${rss:-?} MB" > "$work/$t.result"
  fi
}

echo "== fuzzing ${targets[*]} for ${seconds} s each, $jobs at a time"
for t in "${targets[@]}"; do
  [ -x "$bin/$t" ] || { echo "no fuzz target $t (targets: ${all[*]})" >&2; exit 2; }
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  run_target "$t" &
done
wait

failed=0
for t in "${targets[@]}"; do
  line=$(cat "$work/$t.result" 2>/dev/null || echo "$t: FAILED (no result)")
  echo "$line"
  case "$line" in *FAILED*)
    failed=1
    # The crash report: libFuzzer's summary and the top of the stack.
    grep -E '^==[0-9]+==|SUMMARY|Fatal error|fatal error|#[0-9]+ 0x.* in \$s|#[0-9]+ 0x.* in LLVMFuzzer' "$logs/$t.log" | head -n 30 | sed 's/^/    /' || true
    ;;
  esac
done
if [ $failed -ne 0 ]; then
  echo "fuzzing found crashes: the inputs are in Fuzz/Regressions/; fix the decoder, keep the input, commit both" >&2
  exit 1
fi
echo "fuzzing: ${#targets[@]} targets, no crash in ${seconds} s each"
