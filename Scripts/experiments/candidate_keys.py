#!/usr/bin/env python3
"""What do the `candidates` table's keys cost SQLite alone? (issue #14; not Gloss code)

Copies the `candidates` rows of REPLICA_DB (in their insertion order, 20 transactions, WAL,
synchronous=FULL, a 4 MB page cache standing in for the share of the writer's 16 MB the table gets
during an import) into fresh databases that differ only in their keys:

  today          candidate TEXT PRIMARY KEY (64 hex) + index (revision, rules_version, ordinal)
  pk-only        the primary key alone
  prefix16       no primary key; indexes on substr(candidate, 1, 16) and (substr(revision, 1, 16), rules_version)
  prefix8        the same with 8-digit prefixes
  prefix16-id    no primary key; substr(candidate, 1, 16) only
  none           no key, no index (the floor of the rows themselves)

A prefix index finds a row by `substr(candidate, 1, 16) = substr(?1, 1, 16) AND candidate = ?1`.
Usage: candidate_keys.py REPLICA_DB [WORK_DIR] [REPEATS]
"""
import os
import sqlite3
import sys
import tempfile
import time

src = sys.argv[1]
work = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="candidate-keys-")
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 2
cols = ("candidate, article, revision, rules_version, ordinal, kind, value, precision, rule, exact, prefix, suffix, "
        "sel_start, sel_end, speaker, role, said_on, affiliation, event")
defs = ("candidate TEXT {pk} NOT NULL, article TEXT NOT NULL, revision TEXT NOT NULL, rules_version INTEGER NOT NULL, "
        "ordinal INTEGER NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, precision TEXT, rule TEXT NOT NULL, exact TEXT NOT NULL, "
        "prefix TEXT NOT NULL, suffix TEXT NOT NULL, sel_start INTEGER NOT NULL, sel_end INTEGER NOT NULL, speaker TEXT, role TEXT, "
        "said_on TEXT, affiliation TEXT, event TEXT NOT NULL")
table = lambda pk: f"CREATE TABLE candidates({defs.format(pk=pk)})"
variants = {
    "today": [table("PRIMARY KEY"), "CREATE INDEX r ON candidates(revision, rules_version, ordinal)"],
    "pk-only": [table("PRIMARY KEY")],
    "prefix16": [table(""), "CREATE INDEX i ON candidates(substr(candidate, 1, 16))",
                 "CREATE INDEX r ON candidates(substr(revision, 1, 16), rules_version)"],
    "prefix8": [table(""), "CREATE INDEX i ON candidates(substr(candidate, 1, 8))",
                "CREATE INDEX r ON candidates(substr(revision, 1, 8), rules_version)"],
    "prefix16-id": [table(""), "CREATE INDEX i ON candidates(substr(candidate, 1, 16))"],
    "none": [table("")],
}
s = sqlite3.connect(src)
n = s.execute("SELECT count(*) FROM candidates").fetchone()[0]
top = s.execute("SELECT max(rowid) FROM candidates").fetchone()[0] or 0
step = top // 20 + 1
for rep in range(repeats):
    for name, ddl in variants.items():
        path = os.path.join(work, f"{name}.db")
        for suffix in ["", "-wal", "-shm"]:
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        d = sqlite3.connect(path, isolation_level=None)
        d.execute("PRAGMA journal_mode=WAL")
        d.execute("PRAGMA synchronous=FULL")
        d.execute("PRAGMA cache_size=-4096")
        for q in ddl:
            d.execute(q)
        d.execute(f"ATTACH '{src}' AS s")
        t = time.time()
        for b in range(20):
            d.execute("BEGIN")
            d.execute(f"INSERT INTO main.candidates({cols}) SELECT {cols} FROM s.candidates WHERE rowid > ? AND rowid <= ? ORDER BY rowid",
                      (b * step, (b + 1) * step))
            d.execute("COMMIT")
        elapsed = time.time() - t
        d.close()
        print(f"{name:12} {n} rows  {elapsed:.2f} s  {elapsed / max(n, 1) * 1e6:.1f} µs/row  {os.path.getsize(path) // 1024} KB")
