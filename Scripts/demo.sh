#!/usr/bin/env bash
# The main job: sets up this machine, builds gloss, and runs a real two-analyst session on the
# embedded SQLite default in ./demo-session (removed and recreated on each run).
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/setup.sh
echo "== building gloss"
swift build --product gloss 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\]' || true; }
test "${PIPESTATUS[0]}" -eq 0
gloss() { echo "\$ gloss $*" >&2; "$PWD/.build/debug/gloss" "$@"; }

work="$PWD/demo-session"
rm -rf "$work"; mkdir -p "$work"
article=Tests/Fixtures/2021-06-26-trilateral-special-forces.txt

echo; echo "== two analysts, each with a replica of their own"
gloss init --analyst ana --dir "$work/ana"
gloss init --analyst bo --dir "$work/bo"

echo; echo "== both ingest the same article: the same article id on both replicas"
a=$(gloss ingest --dir "$work/ana" "$article"); echo "$a"
b=$(gloss ingest --dir "$work/bo" "$article"); echo "$b"
[ "$a" = "$b" ] || { echo "article ids differ" >&2; exit 1; }

echo; echo "== notes"
n=$(gloss note add --dir "$work/ana" --on "${a:0:8}" --text "Exercise date: 'September this year' means 2021-09."); echo "$n"
gloss note edit --dir "$work/ana" "${n:0:8}" --text "Exercise date: September 2021 (month precision only)."
gloss note add --dir "$work/bo" --on "${b:0:8}" --text "Source quotes the Azerbaijani defence minister; find the interview."

echo; echo "== offline hand-off: bundles carried across"
gloss vector --dir "$work/bo" --out "$work/bo.vector"
gloss bundle export --dir "$work/ana" --for "$work/bo.vector" --out "$work/ana-to-bo.glossb"
gloss bundle import --dir "$work/bo" "$work/ana-to-bo.glossb"
gloss peers name --dir "$work/bo" "$(gloss whoami --dir "$work/ana" --json | sed 's/.*"replica":"\([0-9a-f]*\)".*/\1/')" ana
gloss bundle export --dir "$work/bo" --peer ana --out "$work/bo-to-ana.glossb"
gloss bundle import --dir "$work/ana" "$work/bo-to-ana.glossb"
echo "(importing the same bundle again changes nothing:)"
gloss bundle import --dir "$work/ana" "$work/bo-to-ana.glossb"

echo; echo "== over the network: ana serves, a third analyst syncs over TCP (encrypted, authenticated)"
gloss init --analyst cy --dir "$work/cy"
"$PWD/.build/debug/gloss" serve --dir "$work/ana" --listen 127.0.0.1:0 > "$work/serve.out" 2> "$work/serve.log" &
server=$!
for _ in $(seq 50); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -n 's/^listening on //p' "$work/serve.out")
gloss sync --dir "$work/cy" "$addr"
gloss note add --dir "$work/cy" --on "${a:0:8}" --text "Cross-check with the Turkish MoD statement."
echo "(one new event costs one event on the wire:)"
gloss sync --dir "$work/cy" "$addr" --json
kill -TERM $server; wait $server || true
gloss bundle export --dir "$work/ana" --peer "$(gloss whoami --dir "$work/bo" --json | sed 's/.*"replica":"\([0-9a-f]*\)".*/\1/')" --out "$work/ana-to-bo-2.glossb"
gloss bundle import --dir "$work/bo" "$work/ana-to-bo-2.glossb"

echo; echo "== both replicas now hold the same events: same version vector, same digest"
gloss status --dir "$work/ana"
gloss status --dir "$work/bo"
da=$(gloss digest --dir "$work/ana"); db=$(gloss digest --dir "$work/bo")
[ "$da" = "$db" ] || { echo "digests differ" >&2; exit 1; }
gloss log --dir "$work/bo"
gloss search --dir "$work/bo" "September"
gloss query --dir "$work/bo" "SELECT author, body FROM article_notes ORDER BY created_at"
gloss verify --dir "$work/bo"
echo; echo "Replicas are in $work; open them with: sqlite3 $work/ana/.gloss/replica.db 'SELECT * FROM notes'"
