#!/usr/bin/env python3
"""Which pages does an import write, table by table, window by window? (issue #14; not Gloss code)

Runs `GLOSS init` and `GLOSS bundle import` of BUNDLE into a new replica while this script holds a
read transaction on it, opened before the import: a reader that reads the database file alone stops
every checkpoint from copying a frame, so the WAL keeps every page each commit wrote (the frames of one
commit are its distinct pages: SQLite rewrites a page already in the transaction's frames in place).
The WAL is copied before the reader lets go, and each frame's page is named by `dbstat` of the final
database. Deterministic (no clock, no cache effect on the count), unlike the wall time.

A page a commit writes is *new* when it lies past the end of the database as of the commit before
(appended) and *old* otherwise (rewritten: random keys, rows updated in place, index entries landing
between others). Old pages are the cost the layout can remove; new pages are the rows themselves.

Usage: wal_pages.py GLOSS BUNDLE [WORK_DIR]
  GLOSS   a `gloss` binary (release), BUNDLE e.g. from
          gloss bench generate --events 100000 --replicas 20 --seed 1 --out h100k.glossb
Prints the frames, commits, and per table the old and new page writes, most old first.
"""
import collections
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile

signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # (`| head` ends the listing quietly)
gloss, bundle = sys.argv[1], sys.argv[2]
work = sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp(prefix="wal-pages-")
replica = os.path.join(work, "r")
shutil.rmtree(replica, ignore_errors=True)
subprocess.run([gloss, "init", "--dir", replica, "--analyst", "a"], check=True, stdout=subprocess.DEVNULL)
db = os.path.join(replica, ".gloss", "replica.db")
wal = os.path.join(work, "import.wal")

reader = sqlite3.connect(db, isolation_level=None)
reader.execute("BEGIN")
reader.execute("SELECT count(*) FROM sqlite_master").fetchone()
subprocess.run([gloss, "bundle", "import", "--dir", replica, bundle], check=True, stdout=subprocess.DEVNULL)
shutil.copyfile(db + "-wal", wal)
reader.execute("COMMIT")
reader.close()

owner = {page: name for page, name in sqlite3.connect(db).execute("SELECT pageno, name FROM dbstat")}
commits, pages = [], set()
with open(wal, "rb") as f:
    size = struct.unpack(">I", f.read(32)[8:12])[0]
    while len(header := f.read(24)) == 24:
        page, db_size = struct.unpack(">II", header[:8])
        f.seek(size, 1)
        pages.add(page)
        if db_size:
            commits.append((pages, db_size))
            pages = set()
os.remove(wal)

old, new = collections.Counter(), collections.Counter()
end = 0
for written, db_size in commits:
    for page in written:
        (new if page > end else old)[owner.get(page, "(freed)")] += 1
    end = max(end, db_size)
print(f"{sum(len(p) for p, _ in commits)} frames in {len(commits)} commits: "
      f"{sum(old.values())} old-page writes, {sum(new.values())} new-page writes")
print(f"{'old':>8} {'new':>8}  table or index")
for name in sorted(set(old) | set(new), key=lambda n: (-old[n], -new[n])):
    print(f"{old[name]:8d} {new[name]:8d}  {name}")
