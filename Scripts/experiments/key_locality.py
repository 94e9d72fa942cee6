#!/usr/bin/env python3
"""How much do 64-hex keys cost the note path, against integer keys in storage order? (issue #14)

Not Gloss code: an experiment to size the lean-schema step. It writes the same note rows two ways,
with Gloss's page cache (16 MB), WAL, synchronous=FULL and windows of 5,000 events:

  hex  today's layout: notes(note TEXT PRIMARY KEY, on_id TEXT, …) with an index on on_id, and
       note_revisions(event TEXT PRIMARY KEY, note TEXT, …) with an index on (note, time) — every
       key a random 64-hex id, so each insert lands at a random place of each index;
  int  integer keys in the order the events are stored: notes(nid INTEGER PRIMARY KEY, note TEXT
       UNIQUE, on_nid INTEGER, …), note_revisions(pos INTEGER PRIMARY KEY, nid INTEGER, …) with an
       index on (nid, time) — the 64-hex note id kept once, in one unique index, for lookups by id.

Per revision: the note_revisions row; a new note inserts its notes row, an edit or delete updates
it. The log, registers, search index and the other kinds are left out (the same in both layouts).

Usage: key_locality.py REPLICA_DB [OUT_DIR]
  REPLICA_DB  a replica that imported a history, e.g. after
              gloss bench generate --events 100000 --replicas 20 --seed 1 --out h100k.glossb
              gloss init --analyst bob --dir r && gloss bundle import --dir r h100k.glossb
Prints, per layout, seconds, revisions/s and the database's size, alternating the layouts twice.
"""
import os, sqlite3, sys, time

if len(sys.argv) < 2:
    sys.exit(__doc__)
src = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
out_dir = sys.argv[2] if len(sys.argv) > 2 else "/tmp"
# Revisions in the order their events were stored.
revisions = src.execute("""
    SELECT r.event, r.note, r.kind, r.author, r.time, r.replica, r.at, r.body, n.on_id
    FROM note_revisions r JOIN events e ON lower(hex(e.id)) = r.event JOIN notes n ON n.note = r.note ORDER BY e.pos
    """).fetchall()
WINDOW = 5000


def fresh(path):
    for suffix in ["", "-wal", "-shm"]:
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    d = sqlite3.connect(path, isolation_level=None)
    d.execute("PRAGMA journal_mode=WAL"); d.execute("PRAGMA synchronous=FULL"); d.execute("PRAGMA cache_size=-16384")
    return d


def run_hex(path):
    d = fresh(path)
    d.executescript("""
        CREATE TABLE notes(note TEXT PRIMARY KEY NOT NULL, on_id TEXT NOT NULL, author TEXT NOT NULL, created_at TEXT NOT NULL,
          body TEXT NOT NULL, body_event TEXT NOT NULL, body_time INTEGER NOT NULL, updated_at TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX notes_on ON notes(on_id);
        CREATE TABLE note_revisions(event TEXT PRIMARY KEY NOT NULL, note TEXT NOT NULL, kind TEXT NOT NULL, author TEXT NOT NULL,
          time INTEGER NOT NULL, replica TEXT NOT NULL, at TEXT NOT NULL, body TEXT);
        CREATE INDEX note_revisions_note ON note_revisions(note, time);
        """)
    start = time.time()
    for i in range(0, len(revisions), WINDOW):
        d.execute("BEGIN")
        for (event, note, kind, author, t, replica, at, body, on_id) in revisions[i:i + WINDOW]:
            d.execute("INSERT INTO note_revisions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (event, note, kind, author, t, replica, at, body))
            if kind == "add":
                d.execute("INSERT INTO notes VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)", (note, on_id, author, at, body, event, t, at))
            else:
                d.execute("UPDATE notes SET body = coalesce(?, body), body_event = ?, body_time = ?, updated_at = ?, deleted = ? WHERE note = ?",
                          (body, event, t, at, int(body is None), note))
        d.execute("COMMIT")
    seconds = time.time() - start
    d.close()
    return seconds


def run_int(path):
    d = fresh(path)
    d.executescript("""
        CREATE TABLE notes(nid INTEGER PRIMARY KEY, note TEXT NOT NULL UNIQUE, on_nid INTEGER NOT NULL, author TEXT NOT NULL,
          created_at TEXT NOT NULL, body TEXT NOT NULL, body_pos INTEGER NOT NULL, body_time INTEGER NOT NULL, updated_at TEXT NOT NULL,
          deleted INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX notes_on ON notes(on_nid);
        CREATE TABLE note_revisions(pos INTEGER PRIMARY KEY, nid INTEGER NOT NULL, kind TEXT NOT NULL, author TEXT NOT NULL,
          time INTEGER NOT NULL, replica TEXT NOT NULL, at TEXT NOT NULL, body TEXT);
        CREATE INDEX note_revisions_note ON note_revisions(nid, time);
        """)
    # Objects' integer ids as a replica would hold them in memory for a window (the writer knows
    # the notes it creates; an edit names its note by hex id and looks it up in the unique index).
    targets = {}
    start = time.time()
    pos = 0
    for i in range(0, len(revisions), WINDOW):
        d.execute("BEGIN")
        for (event, note, kind, author, t, replica, at, body, on_id) in revisions[i:i + WINDOW]:
            pos += 1
            if kind == "add":
                on = targets.setdefault(on_id, len(targets) + 1)
                d.execute("INSERT INTO notes(nid, note, on_nid, author, created_at, body, body_pos, body_time, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          (pos, note, on, author, at, body, pos, t, at))
                nid = pos
            else:
                nid = d.execute("SELECT nid FROM notes WHERE note = ?", (note,)).fetchone()[0]
                d.execute("UPDATE notes SET body = coalesce(?, body), body_pos = ?, body_time = ?, updated_at = ?, deleted = ? WHERE nid = ?",
                          (body, pos, t, at, int(body is None), nid))
            d.execute("INSERT INTO note_revisions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (pos, nid, kind, author, t, replica, at, body))
        d.execute("COMMIT")
    seconds = time.time() - start
    d.close()
    return seconds


print(f"{len(revisions)} note revisions, windows of {WINDOW}")
for round_ in range(2):
    for name, f in [("hex", run_hex), ("int", run_int)]:
        path = os.path.join(out_dir, f"key-locality-{name}.db")
        s = f(path)
        print(f"{name}: {s:.2f} s, {len(revisions) / s:,.0f} revisions/s, {os.path.getsize(path) / 1e6:.0f} MB")
