#!/usr/bin/env python3
"""What does each table of an imported replica cost SQLite alone? (issue #14; not Gloss code)

Copies the rows of every table of REPLICA_DB, one table at a time, into a fresh database holding only
that table and its indexes (the full-text `search` table included, its rows re-indexed), with the
replica's settings: WAL, synchronous=FULL, a 16 MB page cache, 20 transactions per table (as an import
of 100,000 events in windows of 5,000). `INSERT … SELECT` from the attached source: no per-row call
overhead, no Gloss logic, each table alone in its cache — a floor no layout with these rows can beat.

Usage: table_floor.py REPLICA_DB [WORK_DIR]
  REPLICA_DB  a replica that imported a history, e.g. after
              gloss bench generate --events 100000 --replicas 20 --seed 1 --out h100k.glossb
              gloss init --analyst bob --dir r && gloss bundle import --dir r h100k.glossb
Prints, per table, rows per event, seconds and µs per row, then the sum as events/s.
"""
import os
import sqlite3
import sys
import tempfile
import time

src = sys.argv[1]
work = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="table-floor-")
s = sqlite3.connect(src)
schema = s.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid").fetchall()
virtual = [n for t, n, _, sql in schema if t == "table" and sql.upper().startswith("CREATE VIRTUAL")]
shadow = lambda n: any(n.startswith(v + "_") for v in virtual)
tables = [n for t, n, _, _ in schema if t == "table" and not n.startswith("sqlite_") and not shadow(n)]
events = s.execute("SELECT count(*) FROM events").fetchone()[0]
BATCHES = 20

results = []
for name in tables:
    n = s.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
    if n == 0:
        continue
    path = os.path.join(work, f"t-{name}.db")
    for suffix in ["", "-wal", "-shm"]:
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    d = sqlite3.connect(path, isolation_level=None)
    d.execute("PRAGMA journal_mode=WAL")
    d.execute("PRAGMA synchronous=FULL")
    d.execute("PRAGMA cache_size=-16384")
    for t, n2, table, sql in schema:
        if (t == "table" and n2 == name) or (t == "index" and table == name):
            d.execute(sql)
    d.execute(f"ATTACH '{src}' AS s")
    columns = [r[1] for r in s.execute(f'PRAGMA table_info("{name}")')]
    listed = ", ".join(f'"{c}"' for c in columns)
    try:
        rowids = [r[0] for r in s.execute(f'SELECT rowid FROM "{name}" ORDER BY rowid')]
    except sqlite3.OperationalError:   # WITHOUT ROWID: one transaction
        rowids = None
    t0 = time.perf_counter()
    if rowids:
        bounds = [rowids[i * len(rowids) // BATCHES] for i in range(BATCHES)] + [rowids[-1] + 1]
        for lo, hi in zip(bounds, bounds[1:]):
            d.execute("BEGIN IMMEDIATE")
            d.execute(f'INSERT INTO main."{name}"(rowid, {listed}) SELECT rowid, {listed} FROM s."{name}" WHERE rowid >= ? AND rowid < ?', (lo, hi))
            d.execute("COMMIT")
    else:
        d.execute("BEGIN IMMEDIATE")
        d.execute(f'INSERT INTO main."{name}" SELECT * FROM s."{name}"')
        d.execute("COMMIT")
    results.append((time.perf_counter() - t0, name, n))
    d.close()

total = sum(r[0] for r in results)
for seconds, name, n in sorted(results, reverse=True):
    print(f"{name:24s} {n:9d} rows {n / events:5.2f}/event {seconds:7.3f} s {seconds / n * 1e6:7.1f} µs/row")
print(f"all tables: {total:.2f} s for {events:,} events = {events / total:,.0f} events/s")
