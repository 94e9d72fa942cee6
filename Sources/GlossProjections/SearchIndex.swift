import GRDB

/// The full-text index (`search`, FTS5), written once per transaction.
///
/// Applying an event only marks the index rows it makes stale (`temp.search_dirty`, keyed by the
/// index rowid: `annotations.rowid × 4`, `notes.rowid × 4 + 1`, `article_revisions.rowid × 4 + 2`,
/// `facts.rowid × 4 + 3`); before commit, `flush` rewrites exactly those rows with two set-based
/// statements. Writing FTS5 inline cost a segment per statement: once a virtual table has joined a
/// transaction, every later statement that opens a statement journal makes FTS5 flush its pending
/// terms (xSavepoint), which made the index the largest cost of applying an event.
///
/// Merging: each write transaction adds a small segment to the index. FTS5's automatic merging
/// (`automerge`, default 4) does its merge work inside the commit of whichever write crosses its
/// budget — every ~32 local edits, a commit several times larger, whose durable sync was the
/// 99th-percentile edit latency (10 ms against 0.6 ms). So `automerge` is 0: a transaction never
/// merges beyond FTS5's crisis merge (16 segments on one level, cheap at level 0), and `merge` runs
/// from the store's upkeep when the writer is quiet (Checkpointer), bounded to `mergePages` pages.
enum SearchIndex {
    static let schema = "CREATE TEMP TABLE IF NOT EXISTS search_dirty(rowid INTEGER PRIMARY KEY)"
    static let automerge = 0
    static let mergePages = 500

    /// Brings an index created before `automerge` was 0 to the current policy (no rows change).
    static func needsSettle(_ db: Database) throws -> Bool {
        try Int.fetchOne(db, sql: "SELECT v FROM search_config WHERE k = 'automerge'") != automerge
    }

    static func settle(_ db: Database) throws {
        let current = try Int.fetchOne(db, sql: "SELECT v FROM search_config WHERE k = 'automerge'")
        if current != automerge {
            try db.execute(sql: "INSERT INTO search(search, rank) VALUES ('automerge', \(automerge))")
        }
    }

    /// Merges segments (levels holding 4 or more), writing at most about `mergePages` pages;
    /// writes nothing when there is nothing to merge.
    static func merge(_ db: Database) throws {
        try db.execute(sql: "INSERT INTO search(search, rank) VALUES ('merge', \(mergePages))")
    }

    /// Marks one index row stale: `sql` selects the index rowid (one `?` argument, `key`).
    static func mark(_ select: String, _ key: String, _ db: Database) throws {
        try db.run("INSERT OR IGNORE INTO temp.search_dirty(rowid) " + select) { b in b.add(key) }
    }

    /// As `mark`, for a table stored by its events' positions: the row of the event `id`.
    static func mark(_ select: String, atEvent table: String, _ id: String, _ db: Database) throws {
        try db.run("INSERT OR IGNORE INTO temp.search_dirty(rowid) \(select) WHERE \(ObjectTables.atEvent(table, "?"))") { b in b.add(Registers.idBytes(id)) }
    }

    static func markNote(_ note: String, _ db: Database) throws { try mark("SELECT rowid * 4 + 1 FROM notes", atEvent: "notes", note, db) }
    static func markRevision(_ sha: String, _ db: Database) throws { try mark("SELECT rowid * 4 + 2 FROM article_revisions WHERE sha256 = ?", sha, db) }
    static func markFact(_ fact: String, _ db: Database) throws { try mark("SELECT rowid * 4 + 3 FROM facts WHERE fact = ?", fact, db) }
    static func markAnnotation(_ a: String, _ db: Database) throws { try mark("SELECT rowid * 4 FROM annotations", atEvent: "annotations", a, db) }

    /// Rewrites the stale index rows from their tables (live notes, facts not retracted, every
    /// revision and annotation), then forgets them. One row per statement (`insertEach`): the
    /// set-based `INSERT INTO search … SELECT` and `DELETE … WHERE rowid IN (…)` were multi-row
    /// writes to a virtual table, which SQLite gives a statement journal — every page FTS5 changed,
    /// written again to a temporary file (10,083 writes, 20 MB per 20,000 imported events; a
    /// rebuild's one flush journals every page it reuses from the freed projections).
    static func flush(_ db: Database) throws {
        guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM temp.search_dirty LIMIT 1")) ?? false else { return }
        // Only documents the index holds (FTS5's own `search_docsize` row per document): deleting
        // an absent rowid still costs FTS5 a lookup and an update of the virtual table, and most
        // stale marks are for rows new in this transaction (all of them in a rebuild). Read first:
        // the deletes change `search_docsize`.
        var held: [Int64] = []
        try db.rows("SELECT d.rowid FROM temp.search_dirty d JOIN search_docsize s ON s.id = d.rowid", { _ in }) { held.append($0.int(0)) }
        for rowid in held { try db.run("DELETE FROM search WHERE rowid = ?") { $0.add(rowid) } }
        try db.insertEach(from: """
            SELECT t.rowid * 4, 'annotation', t.annotation, t.exact || coalesce(char(10) || t.comment, '')
                FROM temp.search_dirty d JOIN annotations t ON t.rowid = d.rowid / 4 WHERE d.rowid % 4 = 0
            UNION ALL
            SELECT t.rowid * 4 + 1, 'note', t.note, t.body
                FROM temp.search_dirty d JOIN notes t ON t.rowid = d.rowid / 4 WHERE d.rowid % 4 = 1 AND t.deleted = 0
            UNION ALL
            SELECT t.rowid * 4 + 2, 'revision', t.sha256, t.text
                FROM temp.search_dirty d JOIN article_revisions t ON t.rowid = d.rowid / 4 WHERE d.rowid % 4 = 2
            UNION ALL
            SELECT t.rowid * 4 + 3, 'fact', t.fact, t.subject || ' ' || t.predicate || ' ' || t.object || coalesce(' ' || t.when_text, '')
                    || coalesce(' ' || t.where_text, '') || char(10) || t.exact
                FROM temp.search_dirty d JOIN facts t ON t.rowid = d.rowid / 4 WHERE d.rowid % 4 = 3 AND t.retracted = 0
            """, into: "INSERT INTO search(rowid, kind, id, body) VALUES (?, ?, ?, ?)")
        try db.cachedStatement(sql: "DELETE FROM temp.search_dirty").execute()
    }
}
