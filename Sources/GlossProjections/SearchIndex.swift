import GRDB
import GlossStore

/// The full-text index (`search`, FTS5, contentless), written once per transaction.
///
/// The index holds no text of its own (`content=''`): each indexed text lives once, in its table,
/// and the index's rowid names the row (`annotations.rowid × 4`, `notes.rowid × 4 + 1`,
/// `article_revisions.rowid × 4 + 2`, `facts.rowid × 4 + 3`; `sources`). A contentful index kept a
/// third copy of every note's text (`search_content`, 30 MB of a 317 MB replica after the
/// 100,000-event history) and rewrote one of its pages at random for each edit of an older note —
/// 12% of the pages an import wrote.
///
/// Applying an event only marks the index rows it makes stale (`temp.search_dirty`, keyed by the
/// index rowid), *before* it changes the row: a contentless index can only forget a text it is
/// told, so the mark keeps the text the index holds (`old`: the row's indexed text as the
/// transaction found it; the first mark of a row in a transaction wins). Before commit, `flush`
/// deletes the marked rows the index holds with their old texts, then inserts the marked rows'
/// texts anew. Writing FTS5 inline cost a segment per statement: once a virtual table has joined a
/// transaction, every later statement that opens a statement journal makes FTS5 flush its pending
/// terms (xSavepoint), which made the index the largest cost of applying an event.
///
/// Merging: each write transaction adds a small segment to the index. FTS5's automatic merging
/// (`automerge`, default 4) does its merge work inside the commit of whichever write crosses its
/// budget — every ~32 local edits, a commit several times larger, whose durable sync was the
/// 99th-percentile edit latency (10 ms against 0.6 ms). So `automerge` is 0: a transaction never
/// merges beyond FTS5's crisis merge (16 segments on one level, cheap at level 0), and `merge` runs
/// from the store's upkeep when the writer is quiet (Checkpointer), bounded to `mergePages` pages.
public enum SearchIndex {
    /// One kind of indexed row: its table, `k` of its index rowids (`rowid × 4 + k`), its kind and
    /// id column as `gloss search` shows them, and the text it indexes (an SQL expression over the
    /// row `t`; NULL when the row is not indexed: a deleted note, a retracted fact).
    public struct Source: Sendable {
        public var table: String
        public var k: Int
        public var kind: String
        public var id: String
        public var text: String
    }

    public static let sources = [
        Source(table: "annotations", k: 0, kind: "annotation", id: "annotation", text: "t.exact || coalesce(char(10) || t.comment, '')"),
        Source(table: "notes", k: 1, kind: "note", id: "note", text: "CASE WHEN t.deleted = 0 THEN t.body END"),
        Source(table: "article_revisions", k: 2, kind: "revision", id: "sha256", text: "t.text"),
        Source(table: "facts", k: 3, kind: "fact", id: "fact", text: """
            CASE WHEN t.retracted = 0 THEN t.subject || ' ' || t.predicate || ' ' || t.object || coalesce(' ' || t.when_text, '') \
            || coalesce(' ' || t.where_text, '') || char(10) || t.exact END
            """),
    ]

    /// The source reading `table` (nil: the index does not read it).
    static func source(_ table: String) -> Source? { sources.first { $0.table == table } }

    static let schema = "CREATE TEMP TABLE IF NOT EXISTS search_dirty(rowid INTEGER PRIMARY KEY, old TEXT)"
    static let tableSQL = """
        CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(body, content = '', tokenize = 'unicode61 remove_diacritics 2');
        INSERT INTO search(search, rank) VALUES ('automerge', \(automerge));
        """
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

    /// The statement marking the rows of `table` that `condition` selects (an SQL condition over
    /// `t`, with the caller's parameters) stale, keeping their indexed texts: run it *before* the
    /// rows change. Nothing for a table the index does not read.
    public static func markSQL(_ table: String, where condition: String) -> String? {
        guard let s = source(table) else { return nil }
        return "INSERT OR IGNORE INTO temp.search_dirty(rowid, old) SELECT t.rowid * 4 + \(s.k), \(s.text) FROM \(table) t WHERE \(condition)"
    }

    static func mark(_ table: String, _ condition: String, _ db: Database, _ bind: (inout SQLBinder) -> Void) throws {
        try db.run(markSQL(table, where: condition)!, bind)
    }

    /// Marks the note whose `notes` row is at `notePos` (the log position of its `NoteAdded`).
    static func markNote(at notePos: Int64, _ db: Database) throws { try mark("notes", "t.note_pos = ?", db) { $0.add(notePos) } }
    static func markFact(_ fact: String, _ db: Database) throws { try mark("facts", "t.fact = ?", db) { $0.add(fact) } }
    /// Marks a row just inserted into `table` by its rowid (`notes` and `annotations`: their event's
    /// log position): the index holds no text for a new row, so there is nothing to keep and no row
    /// to read back.
    static func markNew(_ table: String, rowid: Int64, _ db: Database) throws {
        try db.run("INSERT OR IGNORE INTO temp.search_dirty(rowid) VALUES (?)") { $0.add(rowid * 4 + Int64(source(table)!.k)) }
    }

    /// Marks every row stale (a table rewritten whole, as a hub cache's bootstrap does): the index
    /// is emptied first, so no old text is kept (none is needed, and copying every text into the
    /// temporary table would double a bootstrap's reads).
    public static func markAll(_ db: Database) throws {
        try db.execute(sql: "INSERT INTO search(search) VALUES ('delete-all'); DELETE FROM temp.search_dirty")
        for s in sources { try db.execute(sql: "INSERT INTO temp.search_dirty(rowid) SELECT rowid * 4 + \(s.k) FROM \(s.table)") }
    }

    /// `LEFT JOIN`s of each source table (aliased as given) to the index row `s`, by rowid.
    static func joins(_ aliases: [String: String]) -> String {
        sources.map { src in
            let t = aliases[src.table]!
            return "LEFT JOIN \(src.table) \(t) ON s.rowid % 4 = \(src.k) AND \(t).rowid = s.rowid / 4"
        }.joined(separator: "\n")
    }

    /// The kind, id and indexed text of the row an index rowid names (nil: no such row, as for a
    /// rowid some other writer put in the index).
    public static func document(_ rowid: Int64, _ db: Database) throws -> (kind: String, id: String, text: String?)? {
        let s = sources[Int(rowid & 3)]
        return try Row.fetchOne(db, sql: "SELECT t.\(s.id), \(s.text) FROM \(s.table) t WHERE t.rowid = ?", arguments: [rowid >> 2])
            .map { (s.kind, $0[0], $0[1]) }
    }

    /// Rewrites the stale index rows from their tables, then forgets them. One row per statement
    /// (`insertEach`): the set-based `INSERT INTO search … SELECT` was a multi-row write to a virtual
    /// table, which SQLite gives a statement journal — every page FTS5 changed, written again to a
    /// temporary file (10,083 writes, 20 MB per 20,000 imported events; a rebuild's one flush
    /// journals every page it reuses from the freed projections).
    static func flush(_ db: Database) throws {
        guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM temp.search_dirty LIMIT 1")) ?? false else { return }
        // Only documents the index holds (FTS5's own `search_docsize` row per document): most
        // stale marks are for rows new in this transaction (all of them in a rebuild). Read first:
        // the deletes change `search_docsize`.
        var held: [(Int64, String?)] = []
        try db.rows("SELECT d.rowid, d.old FROM temp.search_dirty d JOIN search_docsize s ON s.id = d.rowid", { _ in }) {
            held.append(($0.int(0), $0.isNull(1) ? nil : $0.text(1)))
        }
        for (rowid, old) in held {
            // A held row marked without its text would leave its terms behind: every write marks
            // before it changes a row, so this is a defect; the index is then rebuilt whole.
            guard let old else {
                assertionFailure("search index row \(rowid) was marked stale without its indexed text")
                return try rebuild(db)
            }
            try db.run("INSERT INTO search(search, rowid, body) VALUES ('delete', ?, ?)") { b in b.add(rowid); b.add(old) }
        }
        try db.insertEach(from: sources.map { s in
            "SELECT d.rowid, \(s.text) AS indexed FROM temp.search_dirty d JOIN \(s.table) t ON t.rowid = d.rowid / 4 WHERE d.rowid % 4 = \(s.k) AND indexed IS NOT NULL"
        }.joined(separator: " UNION ALL "), into: "INSERT INTO search(rowid, body) VALUES (?, ?)")
        try db.cachedStatement(sql: "DELETE FROM temp.search_dirty").execute()
    }

    /// Empties the index and indexes every row again.
    static func rebuild(_ db: Database) throws {
        try markAll(db)
        try flush(db)
    }
}
