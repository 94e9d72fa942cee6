#!/usr/bin/env bash
# Gloss side by side with Yrs (pycrdt) and Loro on the same job, in ONE run, interleaved
# (BENCHMARKS.md, "Side by side with Yrs and Loro"; issue #14):
#   bundle file -> import -> durable persist -> SQLite projection table,
# for the content of N annotation field-set operations (the peers' workload, ../shared/bench/peers).
#
# Per N (10,000 and 100,000; 1,000,000 with GLOSS_PEERS_LARGE=1):
#   1. `gloss bench generate` writes the equivalent signed Gloss history (untimed, like the peers'
#      building of replica A): 0.16·N annotation events, 0.2·N note edits on 0.01·N notes,
#      N/1000 articles, over GLOSS_PEERS_REPLICAS feeds (default 1: one writer, as in the peers).
#   2. RUNS times, the order of the three rotating from run to run:
#        gloss  `gloss init` (untimed), then `gloss bundle import` of the bundle into that fresh replica,
#               timed as a whole command (wall clock, process start to exit; peak RSS of the process),
#               then `gloss bench op import` on another fresh replica (the in-process import time);
#        yrs    peer_pipeline.py --lib yrs  --variants full (timed phases: export, bundle write/read,
#        loro   peer_pipeline.py --lib loro --variants full  import, persist + fsync, SQLite projection)
#   3. a table: median [min–max] seconds of each, the ratios Gloss/Yrs and Gloss/Loro computed per
#      run then the median, and peak RSS.
#
# Environment:
#   RUNS=3                      runs per N
#   GLOSS_PEERS_SIZES="10000 100000"   the N values (multiples of 1,000); GLOSS_PEERS_LARGE=1 adds 1000000
#   GLOSS_PEERS_REPLICAS=1      feeds of the Gloss history (20 = the usual `gloss bench` shape)
#   GLOSS_PEERS_DIR=../shared/bench/peers   where peer_pipeline.py is (read only; nothing is written there)
#   PEERS_VENV=~/.cache/peers-venv   its virtualenv (created with loro + pycrdt from PyPI if missing)
#   GLOSS_BIN=path              use this gloss binary (gloss-bench beside it); else `swift build -c release` of both
#   GLOSS_PEERS_OUT=bench-results    raw JSON lines (peers-DATE.jsonl) and the table (peers-DATE.md)
#   MAX_SECONDS=600             a peer run taking longer is killed (recorded as skipped)
#   GLOSS_PEERS_INPROCESS=0     skip the second Gloss import (`gloss bench op import`, the in-process time)
# Re-render a table from raw results: Scripts/bench-peers.sh --report bench-results/peers-….jsonl
# Benchmarks are not part of Scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

PEERS=${GLOSS_PEERS_DIR:-$ROOT/../shared/bench/peers}
VENV=${PEERS_VENV:-$HOME/.cache/peers-venv}
PY="$VENV/bin/python"
RUNS=${RUNS:-3}
SIZES=${GLOSS_PEERS_SIZES:-10000 100000}
[ "${GLOSS_PEERS_LARGE:-0}" = 1 ] && SIZES="$SIZES 1000000"
REPLICAS=${GLOSS_PEERS_REPLICAS:-1}
OUTDIR=${GLOSS_PEERS_OUT:-bench-results}
MAXS=${MAX_SECONDS:-600}
INPROCESS=${GLOSS_PEERS_INPROCESS:-1}

# ------------------------------------------------------------------------------------------ the report
# Reads the JSON lines of one run and prints the markdown table (also used by --report).
report() {
  python3 - "$1" <<'EOF'
import json, statistics, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
med = statistics.median
meta = [r for r in recs if r.get("bench") == "peers_meta"]
gen = {r["n"]: r for r in recs if r.get("bench") == "gloss_generate"}
g_cli = {(r["n"], r["rep"]): r for r in recs if r.get("bench") == "gloss_bundle_import"}
g_op = {(r["n"], r["rep"]): r for r in recs if r.get("bench") == "gloss_bench_op_import"}
peer = {(r["lib"], r["n"], r["rep"]): r for r in recs
        if r.get("bench") == "peer_pipeline" and r.get("variant") == "full"}
skips = [r for r in recs if r.get("bench") == "peer_pipeline_skip"]

def mmm(xs, f):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "–"
    if len(xs) == 1:
        return f(xs[0])
    return "%s [%s–%s]" % (f(med(xs)), f(min(xs)), f(max(xs)))

def sec(x):
    return "%.3f" % x if x < 1 else "%.2f" % x if x < 10 else "%.1f" % x

def rat(x):
    return "%.1f×" % x

def mb(x):
    return "%.0f" % x

ns = sorted({n for n, _ in g_cli} | {n for _, n, _ in peer})
if meta:
    m = meta[0]
    print("Run %s, commit %s, %s × %s, load average at start %s; Gloss history over %s feed(s); "
          "loro %s, pycrdt %s, Python %s, SQLite %s (Python's) / %s (system)." % (
              m["time"], m["commit"], m["cpu_model"], m["nproc"], " ".join(m["loadavg"]), m["replicas"],
              m["loro"], m["pycrdt"], m["python"], m["sqlite_python"], m["sqlite_system"]))
    print()
print("| N field sets | Gloss events | Gloss `bundle import`, wall s | Gloss in-process s | Yrs s | Loro s "
      "| Gloss/Yrs | Gloss/Loro | Gloss in-process / Yrs | peak RSS MB Gloss / Yrs / Loro |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for n in ns:
    reps = sorted({r for (nn, r) in g_cli if nn == n})
    gw = [g_cli[(n, r)]["wall_s"] for r in reps]
    gi = [g_op[(n, r)]["seconds"] for r in reps if (n, r) in g_op]
    ys = [peer[("yrs", n, r)]["total_s"] for r in reps if ("yrs", n, r) in peer]
    ls = [peer[("loro", n, r)]["total_s"] for r in reps if ("loro", n, r) in peer]
    r_y = [g_cli[(n, r)]["wall_s"] / peer[("yrs", n, r)]["total_s"] for r in reps if ("yrs", n, r) in peer]
    r_l = [g_cli[(n, r)]["wall_s"] / peer[("loro", n, r)]["total_s"] for r in reps if ("loro", n, r) in peer]
    r_iy = [g_op[(n, r)]["seconds"] / peer[("yrs", n, r)]["total_s"] for r in reps
            if ("yrs", n, r) in peer and (n, r) in g_op]
    rss = "%s / %s / %s" % (
        mmm([g_cli[(n, r)]["maxrss_mb"] for r in reps], mb),
        mmm([peer[("yrs", n, r)]["rss_peak_mb"] for r in reps if ("yrs", n, r) in peer], mb),
        mmm([peer[("loro", n, r)]["rss_peak_mb"] for r in reps if ("loro", n, r) in peer], mb))
    print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        "{:,}".format(n), "{:,}".format(gen[n]["events"]) if n in gen else "?", mmm(gw, sec), mmm(gi, sec),
        mmm(ys, sec), mmm(ls, sec), mmm(r_y, rat), mmm(r_l, rat), mmm(r_iy, rat), rss))
print()
print("Runs per N: %s. Ratios are taken within each run (same minute, same machine load), then the median "
      "[min–max]." % ", ".join("%s: %d" % ("{:,}".format(n), len({r for (nn, r) in g_cli if nn == n})) for n in ns))
for s in skips:
    print("Skipped: %s N=%s runs %s (%s)" % (s["lib"], s["n"], s["skipped_reps"], s["reason"]))
print()
# CPU time (less sensitive to other tenants than wall time): Gloss's user + sys for the whole command (the
# reading thread included) against the peers' process CPU over their timed phases.
print("| N | CPU s: Gloss `bundle import` (user + sys) | Yrs | Loro | Gloss/Yrs CPU | Gloss/Loro CPU |")
print("|---:|---:|---:|---:|---:|---:|")
for n in ns:
    reps = sorted({r for (nn, r) in g_cli if nn == n})
    gc = {r: g_cli[(n, r)]["user_s"] + g_cli[(n, r)]["sys_s"] for r in reps}
    pc = {lib: {r: peer[(lib, n, r)]["cpu_s"] for r in reps if (lib, n, r) in peer} for lib in ("yrs", "loro")}
    print("| %s | %s | %s | %s | %s | %s |" % (
        "{:,}".format(n), mmm(list(gc.values()), sec), mmm(list(pc["yrs"].values()), sec),
        mmm(list(pc["loro"].values()), sec), mmm([gc[r] / pc["yrs"][r] for r in pc["yrs"]], rat),
        mmm([gc[r] / pc["loro"][r] for r in pc["loro"]], rat)))
print()
# Where the time goes (medians): the peers' phases and Gloss's CPU split.
ph = ("export", "bundle_write", "bundle_read", "import", "persist_encode", "persist_write", "project_read",
      "project_sql")
print("| N | what | median phases |")
print("|---:|---|---|")
for n in ns:
    reps = sorted({r for (nn, r) in g_cli if nn == n})
    c = [g_cli[(n, r)] for r in reps]
    o = [g_op[(n, r)] for r in reps if (n, r) in g_op]
    g = gen.get(n, {})
    print("| %s | Gloss | %s events (%s annotations, %s tags, %s links, %s notes, %s note edits, %s articles), "
          "%s bytes/event; `bundle import`: user %s s + sys %s s CPU in %s s wall; in-process %s events/s, "
          "%s SQLite row changes/event |" % (
              "{:,}".format(n), "{:,}".format(g.get("events", 0)), "{:,}".format(g.get("annotations", 0)),
              "{:,}".format(g.get("tags", 0)), "{:,}".format(g.get("links", 0)), "{:,}".format(g.get("notes", 0)),
              "{:,}".format(g.get("edits", 0)), "{:,}".format(g.get("articles", 0)), g.get("bytesPerEvent", "?"),
              sec(med([x["user_s"] for x in c])), sec(med([x["sys_s"] for x in c])), sec(med([x["wall_s"] for x in c])),
              "{:,.0f}".format(med([x["eventsPerSecond"] for x in o])) if o else "–",
              med([x["changesPerEvent"] for x in o]) if o else "–"))
    for lib, name in (("yrs", "Yrs"), ("loro", "Loro")):
        rs = [peer[(lib, n, r)] for r in reps if (lib, n, r) in peer]
        if not rs:
            continue
        print("| %s | %s | %s; bundle %s bytes (%.1f/op) |" % (
            "{:,}".format(n), name, ", ".join("%s %s" % (p, sec(med([x.get("t_" + p, 0.0) for x in rs]))) for p in ph),
            "{:,}".format(rs[0]["bundle_bytes"]), rs[0]["bytes_per_op"]))
EOF
}

if [ "${1:-}" = "--report" ]; then
  report "$2"
  exit 0
fi

# ------------------------------------------------------------------------------------------ setup
[ -f "$PEERS/peer_pipeline.py" ] || { echo "no peer_pipeline.py in $PEERS (set GLOSS_PEERS_DIR)" >&2; exit 1; }
if [ ! -x "$PY" ]; then
  echo "== creating $VENV (loro, pycrdt from PyPI)"
  python3 -m venv "$VENV" && "$VENV/bin/pip" install -q loro pycrdt
fi
if [ -n "${GLOSS_BIN:-}" ]; then
  GLOSS=$GLOSS_BIN
else
  for product in gloss gloss-bench; do  # `gloss bench` runs the gloss-bench built beside gloss
    echo "== swift build -c release --product $product"
    swift build -c release --product "$product" 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\]' || true; }
    test "${PIPESTATUS[0]}" -eq 0
  done
  GLOSS="$(swift build -c release --show-bin-path)/gloss"
fi
[ -x "$GLOSS" ] || { echo "no gloss binary at $GLOSS" >&2; exit 1; }

mkdir -p "$OUTDIR"
STAMP=$(date +%Y%m%d-%H%M%S)
OUT="$OUTDIR/peers-$STAMP.jsonl"
TABLE="$OUTDIR/peers-$STAMP.md"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gloss-peers-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain -- Sources Package.swift 2>/dev/null)" ] && COMMIT="$COMMIT+dirty"
T0=$(date +%s)
log() { echo "[$(date +%H:%M:%S) +$(( $(date +%s) - T0 ))s] $*"; }

"$PY" - "$COMMIT" "$REPLICAS" "$(sqlite3 --version 2>/dev/null | cut -d' ' -f1)" >> "$OUT" <<'EOF'
import json, os, platform, sqlite3, sys, time
from importlib.metadata import version
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(json.dumps({"bench": "peers_meta", "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "commit": sys.argv[1],
                  "replicas": int(sys.argv[2]), "sqlite_system": sys.argv[3] or "?", "loadavg": open("/proc/loadavg").read().split()[:3],
                  "nproc": os.cpu_count(), "cpu_model": cpu, "kernel": platform.release(), "python": platform.python_version(),
                  "sqlite_python": sqlite3.sqlite_version, "loro": version("loro"), "pycrdt": version("pycrdt")}, sort_keys=True))
EOF

# Runs a command, appends one JSON line: wall seconds, user/sys CPU and peak RSS of the child, its stdout (JSON).
timed() {  # timed BENCH N REP -- command...
  local bench=$1 n=$2 rep=$3; shift 4
  "$PY" - "$bench" "$n" "$rep" "$@" >> "$OUT" <<'EOF'
import json, resource, subprocess, sys, time
bench, n, rep, cmd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
load = float(open("/proc/loadavg").read().split()[0])
t0 = time.perf_counter()
p = subprocess.run(cmd, capture_output=True, text=True)
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
if p.returncode != 0:
    sys.stderr.write(p.stdout + p.stderr)
    raise SystemExit("failed (%d): %s" % (p.returncode, " ".join(cmd)))
rec = {"bench": bench, "n": n, "rep": rep, "wall_s": wall, "user_s": ru.ru_utime, "sys_s": ru.ru_stime,
       "maxrss_mb": ru.ru_maxrss / 1024, "loadavg1_before": load}
try:
    out = json.loads(p.stdout.strip().splitlines()[-1])
    rec.update(out if isinstance(out, dict) else {"out": out})
except Exception:
    rec["stdout"] = p.stdout[-2000:]
print(json.dumps(rec, sort_keys=True))
EOF
}

run_gloss() {  # N REP BUNDLE EVENTS
  local n=$1 rep=$2 bundle=$3 events=$4
  rm -rf "$WORK/g"; mkdir -p "$WORK/g"
  "$GLOSS" init --dir "$WORK/g/b" --analyst bench > /dev/null
  timed gloss_bundle_import "$n" "$rep" -- "$GLOSS" bundle import --dir "$WORK/g/b" --json "$bundle"
  "$PY" - "$OUT" "$events" <<'EOF'
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
ok = r.get("applied") == int(sys.argv[2]) and r.get("rejected") == 0 and r.get("pending") == 0
if not ok:
    raise SystemExit("gloss bundle import was not clean: %s" % json.dumps(r)[:800])
EOF
  rm -rf "$WORK/g"; mkdir -p "$WORK/g"
  if [ "$INPROCESS" = 1 ]; then
    timed gloss_bench_op_import "$n" "$rep" -- "$GLOSS" bench op import --work "$WORK/g" --bundle "$bundle"
    rm -rf "$WORK/g"
  fi
  log "gloss N=$n run $((rep + 1)): $(tail -2 "$OUT" | "$PY" -c 'import json,sys; rs=[json.loads(l) for l in sys.stdin]; a=[r for r in rs if r["bench"]=="gloss_bundle_import"][-1]; b=[r for r in rs if r["bench"]=="gloss_bench_op_import"]; print("bundle import %.2f s wall (%.0f MB)" % (a["wall_s"], a["maxrss_mb"]) + (", in-process %.2f s" % b[-1]["seconds"] if b and b[-1]["rep"]==a["rep"] and b[-1]["n"]==a["n"] else ""))')"
}

run_peer() {  # LIB N REP
  local lib=$1 n=$2 rep=$3 rc=0
  rm -rf "$WORK/p"
  "$PY" "$PEERS/peer_pipeline.py" --lib "$lib" --n "$n" --runs 1 --first-rep "$rep" --variants full \
    --max-seconds "$MAXS" --dir "$WORK/p" --out "$OUT" > "$WORK/peer.log" 2>&1 || rc=$?
  rm -rf "$WORK/p"
  if [ $rc != 0 ]; then cat "$WORK/peer.log" >&2; log "$lib N=$n run $((rep + 1)) FAILED (rc $rc)"; return 0; fi
  log "$lib N=$n run $((rep + 1)): $(grep -m1 -o 'total median [0-9.]* m\?s' "$WORK/peer.log" || echo '?')"
}

# ------------------------------------------------------------------------------------------ the runs
log "gloss $GLOSS (commit $COMMIT), peers $PEERS, venv $VENV; N = $SIZES; $RUNS runs; $REPLICAS feed(s); raw results $OUT"
for N in $SIZES; do
  # The mapping of N field sets to a Gloss history (BENCHMARKS.md explains it and its caveats).
  ANN=$(( N * 16 / 100 )); EDITS=$(( N / 5 )); NOTES=$(( N / 100 )); ARTICLES=$(( N / 1000 > 0 ? N / 1000 : 1 ))
  RATIO=$(python3 -c "print(repr($EDITS / ($NOTES + $EDITS)))")
  BUNDLE="$WORK/h$N.glossb"
  log "generate N=$N: --articles $ARTICLES --notes $NOTES --annotations $ANN --overwrite-ratio $RATIO --replicas $REPLICAS"
  "$GLOSS" bench generate --out "$BUNDLE" --replicas "$REPLICAS" --articles "$ARTICLES" --notes "$NOTES" \
    --annotations "$ANN" --overwrite-ratio "$RATIO" --seed 1 --json > "$WORK/gen.json"
  "$PY" - "$N" "$WORK/gen.json" "$BUNDLE" >> "$OUT" <<'EOF'
import json, os, sys
r = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
r.update({"bench": "gloss_generate", "n": int(sys.argv[1]), "bundle_bytes": os.path.getsize(sys.argv[3])})
print(json.dumps(r, sort_keys=True))
EOF
  EVENTS=$("$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["events"])' "$WORK/gen.json")
  log "  $(cat "$WORK/gen.json")"
  for ((r = 0; r < RUNS; r++)); do
    # Rotate the order so that no one always runs first (or right after the same neighbour).
    case $(( r % 3 )) in
      0) ORDER="gloss yrs loro" ;;
      1) ORDER="yrs loro gloss" ;;
      *) ORDER="loro gloss yrs" ;;
    esac
    for who in $ORDER; do
      if [ "$who" = gloss ]; then run_gloss "$N" "$r" "$BUNDLE" "$EVENTS"; else run_peer "$who" "$N" "$r"; fi
    done
  done
  rm -f "$BUNDLE"
done

report "$OUT" | tee "$TABLE"
log "done in $(( $(date +%s) - T0 )) s: $OUT, $TABLE"
