#!/usr/bin/env bash
# The main job: sets up this machine, builds gloss, and runs a real three-analyst session on the
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

key() { "$PWD/.build/debug/gloss" whoami --dir "$1" --json | sed 's/.*"replica":"\([0-9a-f]*\)".*/\1/'; }

echo; echo "== a team: ana creates it; bo and cy join it, each on a replica of their own"
gloss init --analyst ana --dir "$work/ana" --new-team "Caucasus desk"
gloss init --analyst bo --dir "$work/bo" --join
gloss init --analyst cy --dir "$work/cy" --join
gloss team add --dir "$work/ana" bo --key "$(key "$work/bo")" --role analyst
gloss team add --dir "$work/ana" cy --key "$(key "$work/cy")" --role analyst
echo "(bo's empty vector file names bo, so the bundle is encrypted to bo:)"
gloss vector --dir "$work/bo" --out "$work/bo-0.vector"
gloss bundle export --dir "$work/ana" --for "$work/bo-0.vector" --out "$work/ana-roster.glossb"
gloss bundle import --dir "$work/bo" "$work/ana-roster.glossb"
gloss team --dir "$work/bo"

echo; echo "== both ingest the same article: the same article id on both replicas"
a=$(gloss ingest --dir "$work/ana" "$article"); echo "$a"
b=$(gloss ingest --dir "$work/bo" "$article"); echo "$b"
[ "$a" = "$b" ] || { echo "article ids differ" >&2; exit 1; }

echo; echo "== notes"
n=$(gloss note add --dir "$work/ana" --on "${a:0:8}" --text "Exercise date: 'September this year' means 2021-09."); echo "$n"
gloss note edit --dir "$work/ana" "${n:0:8}" --text "Exercise date: September 2021 (month precision only)."
gloss note add --dir "$work/bo" --on "${b:0:8}" --text "Source quotes the Azerbaijani defence minister; find the interview."

echo; echo "== facts with quoted evidence, sources and Admiralty grades; annotations"
gloss candidates --dir "$work/ana" "${a:0:8}"
gloss source add --dir "$work/ana" "Dawn" --kind outlet
gloss grade source --dir "$work/ana" Dawn --reliability B --reason "established national daily"
stmt=$("$PWD/.build/debug/gloss" candidates --dir "$work/ana" "${a:0:8}" --json | python3 -c 'import json,sys; print(next(c["id"] for c in json.load(sys.stdin) if c["kind"] == "statement"))')
f1=$(gloss fact add --dir "$work/ana" --from-candidate "${stmt:0:10}" --source Dawn); echo "$f1"
echo "(a quote that occurs more than once is refused, listing the occurrences:)"
gloss fact add --dir "$work/ana" --article "${a:0:8}" --subject "Pakistan Army" --predicate hosts --object "trilateral exercise" --evidence "Pakistan" || true
f2=$(gloss fact add --dir "$work/ana" --article "${a:0:8}" --subject "Pakistan Army" --predicate hosts --object "trilateral exercise" --when 2021-09 --evidence "Pakistan" --occurrence 2 --source Dawn); echo "$f2"
gloss grade fact --dir "$work/ana" "${f1:0:8}" --credibility 2 --reason "on the record, named minister"
gloss fact corroborate --dir "$work/ana" "${f2:0:8}" --by "${f1:0:8}"
gloss annotate --dir "$work/bo" "${b:0:8}" --quote "inspecting the landfills" --comment "Why would a minister inspect landfills?" --tag follow-up
gloss facts --dir "$work/ana"

echo; echo "== offline hand-off: bundles carried across"
gloss vector --dir "$work/bo" --out "$work/bo.vector"
gloss bundle export --dir "$work/ana" --for "$work/bo.vector" --out "$work/ana-to-bo.glossb"
gloss bundle import --dir "$work/bo" "$work/ana-to-bo.glossb"
gloss peers name --dir "$work/bo" "$(gloss whoami --dir "$work/ana" --json | sed 's/.*"replica":"\([0-9a-f]*\)".*/\1/')" ana
gloss bundle export --dir "$work/bo" --peer ana --out "$work/bo-to-ana.glossb"
gloss bundle import --dir "$work/ana" "$work/bo-to-ana.glossb"
echo "(importing the same bundle again changes nothing:)"
gloss bundle import --dir "$work/ana" "$work/bo-to-ana.glossb"

echo; echo "== over the network: ana serves, cy (joined, not yet synced) bootstraps over TCP (encrypted, authenticated)"
"$PWD/.build/debug/gloss" serve --dir "$work/ana" --listen 127.0.0.1:0 > "$work/serve.out" 2> "$work/serve.log" &
server=$!
for _ in $(seq 50); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -n 's/^listening on //p' "$work/serve.out")
gloss sync --dir "$work/cy" "$addr"
gloss note add --dir "$work/cy" --on "${a:0:8}" --text "Cross-check with the Turkish MoD statement."
echo "(one new event costs one event on the wire:)"
gloss sync --dir "$work/cy" "$addr" --json
echo "(a replica outside the team is refused at the handshake and receives nothing:)"
gloss init --analyst eve --dir "$work/eve"
gloss sync --dir "$work/eve" "$addr" || true
kill -TERM $server; wait $server || true
gloss bundle export --dir "$work/ana" --peer "$(gloss whoami --dir "$work/bo" --json | sed 's/.*"replica":"\([0-9a-f]*\)".*/\1/')" --out "$work/ana-to-bo-2.glossb"
gloss bundle import --dir "$work/bo" "$work/ana-to-bo-2.glossb"

echo; echo "== roles: only a fact's author or an admin amends or retracts it; ana makes bo an admin"
gloss fact retract --dir "$work/bo" "${f2:0:8}" --reason "not bo's fact" || true
gloss team role --dir "$work/ana" bo admin
gloss bundle export --dir "$work/ana" --peer "$(key "$work/bo")" --out "$work/ana-to-bo-roles.glossb"
gloss bundle import --dir "$work/bo" "$work/ana-to-bo-roles.glossb"

echo; echo "== concurrent edits: ana amends a fact while bo retracts it; the conflict shows both"
gloss fact amend --dir "$work/ana" "${f2:0:8}" --field where --value "Pakistan"
gloss fact retract --dir "$work/bo" "${f2:0:8}" --reason "the article does not say Pakistan hosts it"
gloss bundle export --dir "$work/bo" --peer ana --out "$work/bo-to-ana-2.glossb"
gloss bundle import --dir "$work/ana" "$work/bo-to-ana-2.glossb"
gloss conflicts --dir "$work/ana"
conflict=$("$PWD/.build/debug/gloss" conflicts --dir "$work/ana" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
retraction=$("$PWD/.build/debug/gloss" conflict show --dir "$work/ana" "$conflict" --json | python3 -c 'import json,sys; print(next(c["event"] for c in json.load(sys.stdin)["candidates"] if c["deleted"]))')
gloss resolve --dir "$work/ana" "${conflict:0:10}" --pick "${retraction:0:12}" --reason "agreed with bo: not in the text"
gloss bundle export --dir "$work/ana" --peer "$(gloss whoami --dir "$work/bo" --json | sed 's/.*"replica":"\([0-9a-f]*\)".*/\1/')" --out "$work/ana-to-bo-3.glossb"
gloss bundle import --dir "$work/bo" "$work/ana-to-bo-3.glossb"
gloss fact show --dir "$work/bo" "${f2:0:8}"

echo; echo "== the article is corrected: a new revision; annotations and evidence follow the text"
sed -e 's/inspecting the landfills/inspecting the training grounds/' -e 's/^Reports in international media/(Updated.) Reports in international media/' \
  "$article" > "$work/revised.txt"
gloss ingest --dir "$work/bo" --revises "${b:0:8}" "$work/revised.txt"
gloss anchors --dir "$work/bo" "${b:0:8}"
reworded=$("$PWD/.build/debug/gloss" anchors --dir "$work/bo" "${b:0:8}" --json | python3 -c 'import json,sys; print(next(a["id"] for a in json.load(sys.stdin) if a["status"] == "needs-review"))')
gloss anchor confirm --dir "$work/bo" "${reworded:0:10}"
gloss bundle export --dir "$work/bo" --peer ana --out "$work/bo-to-ana-3.glossb"
gloss bundle import --dir "$work/ana" "$work/bo-to-ana-3.glossb"

echo; echo "== who may write: a reader reads everything and writes nothing"
gloss init --analyst dee --dir "$work/dee" --join
gloss team add --dir "$work/ana" dee --key "$(key "$work/dee")" --role reader
gloss vector --dir "$work/dee" --out "$work/dee-0.vector"
gloss bundle export --dir "$work/ana" --for "$work/dee-0.vector" --out "$work/ana-to-dee.glossb"
gloss bundle import --dir "$work/dee" "$work/ana-to-dee.glossb"
gloss note add --dir "$work/dee" --on "${a:0:8}" --text "a reader's note" || true

echo; echo "== redaction: an admin purges one note's text on every replica; the chain still verifies"
secret=$(gloss note add --dir "$work/bo" --on "${b:0:8}" --text "Informant: name withheld-by-mistake"); echo "$secret"
gloss bundle export --dir "$work/bo" --peer ana --out "$work/bo-to-ana-4.glossb"
gloss bundle import --dir "$work/ana" "$work/bo-to-ana-4.glossb"
gloss redact --dir "$work/ana" "${secret:0:10}" --reason "names an informant"
gloss bundle export --dir "$work/ana" --peer "$(key "$work/bo")" --out "$work/ana-to-bo-4.glossb"
gloss bundle import --dir "$work/bo" "$work/ana-to-bo-4.glossb"
gloss query --dir "$work/bo" "SELECT event, author, reason FROM redactions"
gloss search --dir "$work/bo" "informant" || true

echo; echo "== hand the work to other tools: STIX 2.1 and W3C Web Annotation"
gloss export stix --dir "$work/ana" --out "$work/case.stix.json"
gloss export annotations --dir "$work/ana" --out "$work/annotations.jsonld"

echo; echo "== both replicas now hold the same events: same version vector, same digest"
gloss status --dir "$work/ana"
gloss status --dir "$work/bo"
da=$(gloss digest --dir "$work/ana"); db=$(gloss digest --dir "$work/bo")
[ "$da" = "$db" ] || { echo "digests differ" >&2; exit 1; }
gloss log --dir "$work/bo"
gloss search --dir "$work/bo" "September"
gloss search --dir "$work/bo" "landfills minister"
gloss query --dir "$work/bo" "SELECT author, body FROM article_notes ORDER BY created_at"
gloss verify --dir "$work/bo"
echo; echo "Replicas are in $work; open them with: sqlite3 $work/ana/.gloss/replica.db 'SELECT * FROM notes'"
