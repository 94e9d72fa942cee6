#!/usr/bin/env bash
# Runs every test: the Swift suites (unit, property, end-to-end on the built binary, exports checked
# by the official stix2-validator) and the independent Python verifier against the golden vectors
# and a replica written by gloss.
# Bounded sizes for CI; set GLOSS_LARGE=1 for the largest runs.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/setup.sh --with-chromium --with-postgres
# A throwaway PostgreSQL cluster for the hub tests (GlossEndToEndTests.HubTests), which fail rather
# than skip without it.
GLOSS_PG_URL=$(Scripts/pg-cluster.sh start)
pg_dir=$(cat .build/pg-cluster)
export GLOSS_PG_URL GLOSS_REQUIRE_PG=1
trap 'Scripts/pg-cluster.sh stop "$pg_dir"' EXIT
# The official STIX 2.1 validator and a JSON-LD processor for the export tests (a venv from PyPI);
# the export tests fail rather than skip when it is missing.
Scripts/stix-venv.sh
export GLOSS_REQUIRE_STIX=1 GLOSS_STIX_PYTHON="$PWD/.venv-stix/bin/python"
# The web view's browser test (GlossWebTests.BrowserTests) fails rather than skips without Chromium
# (Scripts/setup.sh installs Debian's `chromium`).
export GLOSS_REQUIRE_CHROMIUM=1

echo "== swift build"
swift build --build-tests 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\]' || true; }
test "${PIPESTATUS[0]}" -eq 0

# The in-process sync suite runs on its own first: its sessions keep time (handshake and idle
# timeouts) on Swift's cooperative thread pool, which the many synchronous tests of the main run
# occupy for seconds at a time on a 2-core machine.
swift_passed=0
run_swift_tests() {
  local label=$1; shift
  echo "== swift test ($label)"
  set +e
  timeout 4200 swift test --skip-build "$@" > ".build/test-output-$label.txt" 2>&1
  local rc=$?
  set -e
  # Show failures and the summary, not every passing line.
  grep -vE '^(✔|◇|↳|􀟈|􀄵) ' ".build/test-output-$label.txt" | tail -n 100
  if [ $rc -ne 0 ]; then echo "swift test ($label) failed (exit $rc)" >&2; exit 1; fi
  local n
  n=$(grep -oE 'Test run with [0-9]+ tests' ".build/test-output-$label.txt" | grep -oE '[0-9]+' | tail -1)
  swift_passed=$((swift_passed + ${n:-0}))
}
# The adversarial suites (a 10,000-bundle hostile corpus, damaged delivery over 200 seeds, a hostile
# TCP peer against gloss serve) run many child processes at once; beside the main run they would
# starve its time-limited tests, so they get a phase of their own too.
adversarial='HostileCorpusTests|DamagedDeliveryTests|HostilePeerTests'
# The hub suite (three `gloss serve --store` processes, ten clients syncing at once, a hub killed
# with SIGKILL, on the throwaway PostgreSQL cluster) runs on its own too, for the same reason.
run_swift_tests sync --filter SyncTests
hub='HubTests|HubAdversarialTests'
# The 200,000-event scale run and the kill -9 loop wait on child processes for minutes: a synchronous
# test holds one of the 2 cooperative threads all that while, and beside the main run two such waits
# starved every other test past its time limit (CI, 2026-12-06, on a slow VM). A phase of their own.
processes='ScaleTests|CrashDuringImportTests'
run_swift_tests main --skip SyncTests --skip "$adversarial" --skip "$hub" --skip "$processes"
run_swift_tests adversarial --filter "$adversarial"
run_swift_tests processes --filter "$processes"
run_swift_tests hub --filter "$hub"

echo "== independent verifier (Python, from Protocol/ alone)"
python3 Scripts/verify_protocol.py --vectors Protocol/vectors/events.json --wire Protocol/vectors/wire.json \
  --bundle Protocol/vectors/bundles.json --payloads Protocol/vectors/payloads.json \
  --encrypted Protocol/vectors/bundles-encrypted.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; Scripts/pg-cluster.sh stop "$pg_dir"' EXIT
bin=.build/debug/gloss
$bin init --analyst ana --dir "$tmp/ana" >/dev/null
art=$($bin ingest --dir "$tmp/ana" Tests/Fixtures/2021-06-26-trilateral-special-forces.txt)
note=$($bin note add --dir "$tmp/ana" --on "$art" --text "Check the exercise date.")
$bin note edit --dir "$tmp/ana" "$note" --text "Exercises in September 2021." >/dev/null
# Every kind of event, so the verifier judges each type from Protocol/ alone.
$bin source add --dir "$tmp/ana" Dawn --kind outlet >/dev/null
$bin grade source --dir "$tmp/ana" Dawn --reliability B >/dev/null
fact=$($bin fact add --dir "$tmp/ana" --article "$art" --subject "Special Forces" --predicate "will hold" --object exercises \
  --source Dawn --evidence "hold exercises in Azerbaijan in September")
$bin fact amend --dir "$tmp/ana" "$fact" --field when --value 2021-09 >/dev/null
$bin grade fact --dir "$tmp/ana" "$fact" --credibility 2 >/dev/null
ann=$($bin annotate --dir "$tmp/ana" "$art" --quote "inspecting the landfills" --comment "odd" --tag follow-up)
sed 's/inspecting the landfills/inspecting the training grounds/' Tests/Fixtures/2021-06-26-trilateral-special-forces.txt > "$tmp/v2.txt"
$bin ingest --dir "$tmp/ana" --revises "$art" "$tmp/v2.txt" >/dev/null
$bin anchor confirm --dir "$tmp/ana" "$ann" >/dev/null
$bin fact retract --dir "$tmp/ana" "$fact" --reason "test" >/dev/null
$bin bundle export --dir "$tmp/ana" --all --out "$tmp/ana.glossb" >/dev/null
python3 Scripts/verify_protocol.py --db "$tmp/ana/.gloss/replica.db" --bundle "$tmp/ana.glossb"
# A fork (a copy of ana's folder writes the same seq), found by a third replica: the bundle it
# writes carries the fork evidence (format 2), checked by the verifier from Protocol/05 alone.
cp -r "$tmp/ana" "$tmp/twin"
$bin note add --dir "$tmp/ana" --on "$art" --text "one branch" >/dev/null
$bin note add --dir "$tmp/twin" --on "$art" --text "the other branch" >/dev/null
$bin init --analyst cy --dir "$tmp/cy" >/dev/null
$bin bundle export --dir "$tmp/ana" --all --out "$tmp/branch1.glossb" >/dev/null
$bin bundle export --dir "$tmp/twin" --all --out "$tmp/branch2.glossb" >/dev/null
$bin bundle import --dir "$tmp/cy" "$tmp/branch1.glossb" "$tmp/branch2.glossb" >/dev/null || test $? -eq 2
$bin bundle export --dir "$tmp/cy" --all --out "$tmp/cy.glossb" --json | grep -q '"evidence":2'
python3 Scripts/verify_protocol.py --bundle "$tmp/cy.glossb"
# libFuzzer over every decoder (envelope, payload, bundle, wire message, vector file, article): a
# bounded slice here (GLOSS_FUZZ_SECONDS per target, default 20; 300 with GLOSS_LARGE=1); a crash
# fails the run and leaves its input in Fuzz/Regressions/.
echo "== fuzz (Scripts/fuzz.sh)"
fuzz_seconds=${GLOSS_FUZZ_SECONDS:-20}
[ "${GLOSS_LARGE:-0}" = "1" ] && fuzz_seconds=${GLOSS_FUZZ_SECONDS:-300}
FUZZ_JOBS=2 Scripts/fuzz.sh "$fuzz_seconds" 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\]|^#[0-9]+' || true; } | tail -n 40
test "${PIPESTATUS[0]}" -eq 0

echo "swift: ${swift_passed:-0} tests passed; python verifier passed; fuzz targets passed"
echo "${swift_passed:-0} passed, 0 failed"
