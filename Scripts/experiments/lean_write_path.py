#!/usr/bin/env python3
"""A prototype of a leaner write path for issue #14 (not Gloss code; an experiment to size it).

Per event: the log row and at most one append-only projection row (`note_writes`); per window of
5,000 events: the `notes` rows and the full-text index derived with set-based statements. Only the
note path is modelled (no registers or conflicts, annotations, candidates, digest, and an edited
note is indexed again without its old terms being removed, which a real index must do): an upper
bound on what the model gives, to set against `gloss bench run --ops import` on the same history.

Usage: lean_write_path.py REPLICA_DB [OUT_DB]
  REPLICA_DB  a replica that imported the history, e.g. after
              gloss bench generate --events 100000 --replicas 20 --seed 1 --out h100k.glossb
              gloss init --analyst bob --dir r && gloss bundle import --dir r h100k.glossb
              → r/.gloss/replica.db (its events and note revisions are the input)
Prints events/s and the seconds spent per statement kind. Measured 2026-12-04 (BENCHMARKS.md):
~25,000 events/s, of 4.1 s: log rows 0.58, note_writes 0.33, notes 0.37, updates 0.18,
full-text index 1.21, commits 1.24.
"""
import collections, os, sqlite3, sys, time

if len(sys.argv) < 2:
    sys.exit(__doc__)
src = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
out = sys.argv[2] if len(sys.argv) > 2 else "/tmp/lean-write-path.db"
events = src.execute("SELECT pos, id, feed, seq, time, type, author, envelope, payload FROM events ORDER BY pos").fetchall()
revisions = {r[0]: r for r in src.execute("SELECT event, note, kind, author, time, replica, at, body FROM note_revisions")}
targets = dict(src.execute("SELECT note, on_id FROM notes"))

for suffix in ["", "-wal", "-shm"]:
    if os.path.exists(out + suffix):
        os.remove(out + suffix)
d = sqlite3.connect(out, isolation_level=None)
d.execute("PRAGMA journal_mode=WAL"); d.execute("PRAGMA synchronous=FULL"); d.execute("PRAGMA cache_size=-16384")
d.executescript("""
CREATE TABLE events(pos INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, feed INTEGER NOT NULL, seq INTEGER NOT NULL,
  time INTEGER NOT NULL, type TEXT NOT NULL, author TEXT NOT NULL, envelope BLOB NOT NULL, payload BLOB, UNIQUE(feed, seq));
CREATE INDEX events_time ON events(time);
CREATE TABLE note_writes(pos INTEGER PRIMARY KEY, note TEXT NOT NULL, kind TEXT NOT NULL, on_id TEXT, body TEXT,
  time INTEGER NOT NULL, replica TEXT NOT NULL, author TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX note_writes_note ON note_writes(note, time);
CREATE TABLE notes(note TEXT PRIMARY KEY NOT NULL, on_id TEXT NOT NULL, author TEXT NOT NULL, created_at TEXT NOT NULL,
  body TEXT NOT NULL, body_pos INTEGER NOT NULL, updated_at TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX notes_on ON notes(on_id);
CREATE VIRTUAL TABLE search USING fts5(body, content='', tokenize = 'unicode61 remove_diacritics 2');
""")

spent = collections.Counter()
def timed(kind, f, *args):
    t = time.time(); f(*args); spent[kind] += time.time() - t

window = 5000
start = time.time()
for i in range(0, len(events), window):
    chunk = events[i:i + window]
    writes = []
    for e in chunk:
        r = revisions.get(e[1].hex())
        if r:
            writes.append((e[0], r[1], r[2], targets.get(r[1]) if r[2] == "add" else None, r[7], r[4], r[5], r[3], r[6]))
    lo, hi = chunk[0][0], chunk[-1][0]
    d.execute("BEGIN IMMEDIATE")
    timed("log rows", d.executemany, "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)", chunk)
    timed("note_writes", d.executemany, "INSERT INTO note_writes VALUES (?,?,?,?,?,?,?,?,?)", writes)
    timed("notes", d.execute, """INSERT INTO notes(note, on_id, author, created_at, body, body_pos, updated_at)
        SELECT note, on_id, author, at, body, pos, at FROM note_writes WHERE pos BETWEEN ? AND ? AND kind = 'add'""", (lo, hi))
    timed("updates", d.execute, """UPDATE notes SET body = coalesce(w.body, notes.body), body_pos = w.pos, updated_at = w.at,
        deleted = (w.kind = 'delete')
        FROM (SELECT note, body, pos, at, kind, max(time) FROM note_writes WHERE pos BETWEEN ?1 AND ?2 AND kind != 'add' GROUP BY note) w
        WHERE notes.note = w.note""", (lo, hi))
    timed("full-text index", d.execute, """INSERT INTO search(rowid, body) SELECT DISTINCT n.rowid, n.body
        FROM note_writes w JOIN notes n ON n.note = w.note WHERE w.pos BETWEEN ? AND ?""", (lo, hi))
    timed("commits", d.execute, "COMMIT")
elapsed = time.time() - start
print(f"{len(events)} events ({sum(1 for e in events if e[1].hex() in revisions)} note writes): "
      f"{elapsed:.2f} s, {len(events) / elapsed:,.0f} events/s")
print("seconds by statement kind:", {k: round(v, 2) for k, v in spent.items()})
